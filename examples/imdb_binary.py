"""
Title: Classifying movie reviews: binary classification on IMDB
Author: anykeras developers
Description: The course's first problem: multi-hot reviews, a Dense 16-16-1 network,
overfitting after a few epochs, retraining, and about 88% test accuracy.
"""

"""
## Setup

The backend is chosen before Keras is imported. `setdefault` keeps a choice you made
already (`KERAS_BACKEND=torch python examples/imdb_binary.py`) and picks JAX otherwise.
The rest of the script is the same on every backend.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import argparse
import time
from pathlib import Path

import keras
import numpy as np

from anykeras import STYLES, ClassifierSpec, RunConfig, TrainConfig, build, train_and_evaluate
from anykeras.data import encoding, imdb, synthetic
from anykeras.saving import write_json_atomically
from anykeras.training import best_epoch, compile_model, evaluate, hold_out, retrain
from anykeras.training.plots import plot_history

NUM_WORDS = 10_000  # keep the 10,000 most frequent words, as the course does
BATCH_SIZE = 512  # the course's batch size
NEW_REVIEWS = (
    "A wonderful film: moving, beautifully acted and often very funny. I loved it.",
    "Boring and far too long. The plot made no sense and the acting was awful.",
)


def main(
    quick: bool = False, out: Path = Path("runs/imdb_binary"), style: str = "functional"
) -> dict[str, float]:
    """Run the course's IMDB workflow and return the test metrics.

    With ``quick=True`` it trains on small synthetic reviews for 3 epochs instead of
    the real 25,000 reviews for 20, so it finishes in seconds and works offline.
    """
    start = time.perf_counter()
    keras.utils.set_random_seed(0)  # the same initial weights on every run

    """
    ## Load the data

    Each review is a list of word ids: a word's frequency rank plus 3, since ids 0, 1
    and 2 mean "padding", "start of review" and "a word outside the vocabulary". With
    `num_words=10000` only the 10,000 most frequent words are kept. Labels are 1 for a
    positive review and 0 for a negative one. `imdb.load_data` reads the files from
    `ANYKERAS_DATA_DIR` (or Keras's cache) and gives exactly what
    `keras.datasets.imdb.load_data` gives.

    In quick mode, `synthetic.imdb_like` makes small reviews in the same format. They
    have no real words, so we make up a word index that names rank `r` "w<r>".
    """
    if quick:
        (train_data, train_labels), (test_data, test_labels) = synthetic.imdb_like(
            2000, 1000, NUM_WORDS
        )
        word_index = {f"w{rank}": rank for rank in range(1, NUM_WORDS)}
    else:
        (train_data, train_labels), (test_data, test_labels) = imdb.load_data(num_words=NUM_WORDS)
        word_index = imdb.get_word_index()
    print(
        f"{len(train_data)} training and {len(test_data)} test reviews; the first one has "
        f"{len(train_data[0])} ids and label {train_labels[0]}: {train_data[0][:10]} ..."
    )

    """
    To read a review, turn its ids back into words. The ids 0, 1 and 2 have no word and
    show as "?".
    """
    print("Decoded:", imdb.decode(train_data[0], word_index=word_index)[:300], "...")

    """
    ## Encode the reviews

    A Dense network needs vectors of one size. Multi-hot encoding turns a review into
    10,000 zeros with a 1 at each word id that occurs in it (order and counts are lost).
    `multi_hot` builds the matrix with one vectorised NumPy assignment instead of the
    book's Python loop. The labels become float32, as the sigmoid output is.
    """
    x_train = encoding.multi_hot(train_data, NUM_WORDS)
    x_test = encoding.multi_hot(test_data, NUM_WORDS)
    y_train = np.asarray(train_labels, dtype="float32")
    y_test = np.asarray(test_labels, dtype="float32")
    print("x_train:", x_train.shape, x_train.dtype, "first row:", x_train[0][:10])

    """
    ## Describe and build the model

    `ClassifierSpec` describes the network once: two hidden Dense layers of 16 relu
    units and, for a binary task, a `Dense(1, sigmoid)` head whose output is the
    probability that the review is positive. `build` turns the spec into a Sequential,
    Functional or subclassed model; the three are the same model (`--style` picks one).
    """
    spec = ClassifierSpec(input_shape=(NUM_WORDS,), hidden=(16, 16), task="binary")
    model = build(spec, style)
    model.summary()

    """
    ## Compile

    The spec knows the loss and metrics its head needs (binary crossentropy, accuracy);
    `compile_model` uses them with the course's optimizer, rmsprop.
    """
    compile_model(model, spec, optimizer="rmsprop")

    """
    ## Hold out validation data

    The test set is kept for the very end. To watch the model while it trains, we set
    aside the first 10,000 training reviews as validation data.
    """
    validation_size = 500 if quick else 10_000
    (x_partial, y_partial), (x_val, y_val) = hold_out(x_train, y_train, validation_size)

    """
    ## Train

    20 epochs of mini-batches of 512 reviews; after each epoch Keras measures the loss
    and accuracy on the validation data.
    """
    epochs = 3 if quick else 20
    history = model.fit(
        x_partial,
        y_partial,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        validation_data=(x_val, y_val),
        verbose=0 if quick else 2,
    )

    """
    ## Read the History

    `fit` returns a `History` whose `history` dict holds one list per metric, one value
    per epoch: `loss`, `accuracy`, `val_loss`, `val_accuracy`. Plotted (training as dots,
    validation as a line), they show the model overfitting: the training loss keeps
    falling while the validation loss turns up after 4 or 5 epochs.
    """
    print("History keys:", sorted(history.history))
    plots = plot_history(history.history, out)
    print("Wrote", ", ".join(str(path) for path in plots))

    """
    ## Pick the best epoch and retrain

    The epoch with the lowest validation loss is how long to train. A fresh model is
    trained for that many epochs on all 25,000 training reviews (validation included).
    """
    best = best_epoch(history)
    print(f"Lowest validation loss after epoch {best}")
    model = retrain(spec, style, x_train, y_train, TrainConfig(epochs=best, batch_size=BATCH_SIZE))

    """
    ## Evaluate on the test set

    Only now do we look at the test reviews, once: the course reaches about 88%.
    """
    test_metrics = evaluate(model, x_test, y_test)
    print(f"Test loss {test_metrics['loss']:.4f}, test accuracy {test_metrics['accuracy']:.4f}")

    """
    ## Predict

    `predict` gives each review's probability of being positive. A review you type is
    tokenised the way the data set was (`imdb.encode`), then multi-hot encoded like the
    training data. In quick mode there are no real words, so we "type" a decoded test
    review instead.
    """
    print("First test reviews:", model.predict(x_test[:5], verbose=0).ravel().round(3))
    texts = (imdb.decode(test_data[0], word_index=word_index),) if quick else NEW_REVIEWS
    ids = [imdb.encode(text, num_words=NUM_WORDS, word_index=word_index) for text in texts]
    scores = model.predict(encoding.multi_hot(ids, NUM_WORDS), verbose=0).ravel()
    for text, score in zip(texts, scores, strict=True):
        print(f"{score:.3f}  {text[:70]}")

    """
    ## Save the results

    The plots are in `out`; a JSON file keeps the numbers of this run beside them.
    """
    write_json_atomically(
        Path(out) / "results.json",
        {
            "backend": keras.backend.backend(),
            "style": style,
            "quick": quick,
            "best_epoch": best,
            "history": history.history,
            "test": test_metrics,
            "new_reviews": {text: float(score) for text, score in zip(texts, scores, strict=True)},
            "one_call": in_one_call(quick, style, epochs, Path(out) / "one_call"),
            "seconds": round(time.perf_counter() - start, 1),
        },
    )
    return test_metrics


def in_one_call(quick: bool, style: str, epochs: int, out: Path) -> dict[str, float]:
    """
    ## The same, in one call

    Every step above, in the course's order, is also one call: a `RunConfig` names the
    recipe and what to change, and `train_and_evaluate` validates, picks the best epoch,
    retrains and tests, writing its run folder (`metrics.json`, `history.json`, the
    curves, `model.keras`). `anykeras train --dataset imdb --out runs/imdb` is the same
    call. Its samples come in a seeded order, so its numbers differ a little from the
    `model.fit` above.
    """
    config = RunConfig(recipe="imdb", quick=quick, style=style, epochs=epochs, route="plain")
    result = train_and_evaluate(config, workdir=out)
    print(f"One call: best epoch {result.best_epoch}, test accuracy "
          f"{result.test_metrics['accuracy']:.4f}")  # fmt: skip
    return result.metrics()


"""
## Run it

    python examples/imdb_binary.py                  # real data (set ANYKERAS_DATA_DIR)
    python examples/imdb_binary.py --quick          # synthetic data, a few seconds
    KERAS_BACKEND=torch python examples/imdb_binary.py --style subclassed
"""

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Binary classification of IMDB reviews.")
    parser.add_argument(
        "--quick", action="store_true", help="small synthetic data, 3 epochs (offline)"
    )
    parser.add_argument("--style", choices=STYLES, default="functional", help="how to build")
    parser.add_argument("--out", type=Path, default=Path("runs/imdb_binary"), help="plots here")
    args = parser.parse_args()
    print(main(quick=args.quick, out=args.out, style=args.style))
