"""
Title: Classifying newswires: multiclass classification on Reuters
Author: anykeras developers
Description: The course's second problem: sort short Reuters newswires into 46 topics
with a Dense 64-64-46 softmax network, about 79% test accuracy.
"""

"""
## Setup

The backend is chosen before Keras is imported. `setdefault` keeps a choice you made
already (`KERAS_BACKEND=torch python examples/reuters_multiclass.py`) and picks JAX
otherwise.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import argparse
import time
from pathlib import Path

import keras
import numpy as np

from anykeras import STYLES, ClassifierSpec, TrainConfig, build
from anykeras.data import encoding, reuters, synthetic
from anykeras.saving import write_json_atomically
from anykeras.training import best_epoch, compile_model, evaluate, hold_out, retrain
from anykeras.training.plots import plot_history

NUM_WORDS = 10_000  # keep the 10,000 most frequent words, as the course does
NUM_TOPICS = 46  # the Reuters topics: earn, acq, crude, ...
BATCH_SIZE = 512  # the course's batch size


def main(
    quick: bool = False, out: Path = Path("runs/reuters_multiclass"), style: str = "functional"
) -> dict[str, float]:
    """Run the course's Reuters workflow and return the test metrics.

    With ``quick=True`` it trains on small synthetic newswires for a few epochs, so
    it finishes in seconds and works offline.
    """
    start = time.perf_counter()
    keras.utils.set_random_seed(0)  # the same initial weights on every run

    """
    ## Load the data

    8,982 training and 2,246 test newswires, each a list of word ids (frequency rank
    plus 3) like the IMDB reviews, and each labelled with one of 46 topics, an integer
    from 0 to 45. Some topics have thousands of wires, others a handful.

    In quick mode, `synthetic.reuters_like` makes small wires in the same format; they
    have no real words, so we make up a word index that names rank `r` "w<r>".
    """
    if quick:
        (train_data, train_labels), (test_data, test_labels) = synthetic.reuters_like(
            2000, 500, NUM_WORDS
        )
        word_index = {f"w{rank}": rank for rank in range(1, NUM_WORDS)}
    else:
        (train_data, train_labels), (test_data, test_labels) = reuters.load_data(
            num_words=NUM_WORDS
        )
        word_index = reuters.get_word_index()
    topics = reuters.get_label_names()
    print(f"{len(train_data)} training wires, {len(test_data)} test wires")
    print(f"First wire: {len(train_data[0])} ids, topic {topics[train_labels[0]]!r}")
    print("Decoded:", reuters.decode(train_data[0], word_index=word_index)[:300], "...")

    """
    ## Encode the data

    The wires are multi-hot encoded, exactly as the reviews were. The book one-hot
    encodes the labels and uses `categorical_crossentropy`; the spec instead keeps
    them as integers and uses `sparse_categorical_crossentropy`, the same loss computed
    from the integer directly.
    """
    x_train = encoding.multi_hot(train_data, NUM_WORDS)
    x_test = encoding.multi_hot(test_data, NUM_WORDS)
    y_train = np.asarray(train_labels, dtype="int64")
    y_test = np.asarray(test_labels, dtype="int64")
    print("x_train:", x_train.shape, "y_train:", y_train.shape, y_train[:10])

    """
    ## Describe and build the model

    46 classes need more room than two: 16 units could drop information the head
    needs, so the hidden layers have 64 units. A multiclass head is a
    `Dense(46, softmax)`: a probability for each topic, summing to 1.
    """
    spec = ClassifierSpec(
        input_shape=(NUM_WORDS,), hidden=(64, 64), task="multiclass", num_classes=NUM_TOPICS
    )
    model = build(spec, style)
    model.summary()

    """
    ## Compile

    rmsprop again; the spec gives sparse categorical crossentropy and accuracy.
    """
    compile_model(model, spec, optimizer="rmsprop")

    """
    ## Hold out validation data and train

    The first 1,000 training wires watch the training for 20 epochs.
    """
    validation_size = 400 if quick else 1_000
    (x_partial, y_partial), (x_val, y_val) = hold_out(x_train, y_train, validation_size)
    epochs = 6 if quick else 20
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

    The curves show the model overfitting after about 9 epochs.
    """
    plots = plot_history(history.history, out)
    print("Wrote", ", ".join(str(path) for path in plots))

    """
    ## Pick the best epoch and retrain

    A fresh model is trained on all the training wires for the epoch with the lowest
    validation loss.
    """
    best = best_epoch(history)
    print(f"Lowest validation loss after epoch {best}")
    model = retrain(spec, style, x_train, y_train, TrainConfig(epochs=best, batch_size=BATCH_SIZE))

    """
    ## Evaluate on the test set

    About 79% on the real wires. Is that good? With 46 unbalanced topics, a classifier
    that guesses at random (here: the test labels shuffled) is right about 19% of the
    time.
    """
    test_metrics = evaluate(model, x_test, y_test)
    shuffled = np.random.default_rng(0).permutation(y_test)
    baseline = float(np.mean(shuffled == y_test))
    print(f"Test accuracy {test_metrics['accuracy']:.4f}; random baseline {baseline:.4f}")

    """
    ## Predict

    Each prediction is a vector of 46 probabilities that sums to 1; the most likely
    topic is its argmax.
    """
    probabilities = model.predict(x_test[:5], verbose=0)
    print("Shape:", probabilities.shape, "sums:", probabilities.sum(axis=1).round(4))
    for label, row in zip(y_test[:5], probabilities, strict=True):
        guess = int(np.argmax(row))
        print(f"predicted {topics[guess]!r} ({row[guess]:.2f}), true {topics[label]!r}")

    """
    ## Save the results
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
            "random_baseline": baseline,
            "seconds": round(time.perf_counter() - start, 1),
        },
    )
    return test_metrics


"""
## Run it

    python examples/reuters_multiclass.py           # real data (set ANYKERAS_DATA_DIR)
    python examples/reuters_multiclass.py --quick   # synthetic data, a few seconds
"""

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Classify Reuters newswires into 46 topics.")
    parser.add_argument(
        "--quick", action="store_true", help="small synthetic data, a few epochs (offline)"
    )
    parser.add_argument("--style", choices=STYLES, default="functional", help="how to build")
    parser.add_argument(
        "--out", type=Path, default=Path("runs/reuters_multiclass"), help="plots here"
    )
    args = parser.parse_args()
    print(main(quick=args.quick, out=args.out, style=args.style))
