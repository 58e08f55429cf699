"""
Title: Recognising handwritten digits: a first look at a neural network on MNIST
Author: anykeras developers
Description: The course's very first network: 28x28 grey-scale digits flattened to 784
values in [0, 1], a Dense 512-10 softmax network, 5 epochs, about 98% test accuracy.
"""

"""
## Setup

The backend is chosen before Keras is imported. `setdefault` keeps a choice you made
already (`KERAS_BACKEND=torch python examples/mnist_dense.py`) and picks JAX otherwise.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import argparse
import time
from pathlib import Path

import keras
import numpy as np

from anykeras import STYLES, ClassifierSpec, TrainConfig, build
from anykeras.data import mnist, synthetic
from anykeras.saving import write_json_atomically
from anykeras.training import best_epoch, compile_model, evaluate, hold_out, retrain
from anykeras.training.plots import plot_history

NUM_PIXELS = 28 * 28  # each image is flattened into one vector for the Dense layers
NUM_DIGITS = 10
BATCH_SIZE = 128  # the course's batch size for MNIST


def main(
    quick: bool = False, out: Path = Path("runs/mnist_dense"), style: str = "functional"
) -> dict[str, float]:
    """Run the course's MNIST workflow and return the test metrics.

    With ``quick=True`` it trains on small synthetic images for 3 epochs, so it
    finishes in seconds and works offline.
    """
    start = time.perf_counter()
    keras.utils.set_random_seed(0)  # the same initial weights on every run

    """
    ## Load the data

    60,000 training and 10,000 test images of handwritten digits, 28x28 pixels of
    uint8 grey levels (0 is the background, 255 full ink), with their labels 0 to 9.

    In quick mode, `synthetic.mnist_like` makes images of the same shape and type: each
    "digit" is a fixed blob pattern, shifted and noised.
    """
    if quick:
        (train_images, train_labels), (test_images, test_labels) = synthetic.mnist_like(2000, 500)
    else:
        (train_images, train_labels), (test_images, test_labels) = mnist.load_data()
    print("train:", train_images.shape, train_images.dtype, "test:", test_images.shape)
    print("First labels:", train_labels[:10])

    """
    ## Encode the images

    A Dense layer takes a vector, so each image is reshaped into 784 values; dividing
    by 255 puts them in [0, 1] as float32. The labels stay integers.
    """
    x_train = train_images.reshape(len(train_images), NUM_PIXELS).astype("float32") / 255
    x_test = test_images.reshape(len(test_images), NUM_PIXELS).astype("float32") / 255
    y_train = np.asarray(train_labels, dtype="int64")
    y_test = np.asarray(test_labels, dtype="int64")
    print("x_train:", x_train.shape, x_train.dtype, f"in [{x_train.min()}, {x_train.max()}]")

    """
    ## Describe and build the model

    One hidden layer of 512 relu units and a `Dense(10, softmax)` head: for each image,
    10 probabilities, one per digit.
    """
    spec = ClassifierSpec(
        input_shape=(NUM_PIXELS,), hidden=(512,), task="multiclass", num_classes=NUM_DIGITS
    )
    model = build(spec, style)
    model.summary()

    """
    ## Compile

    rmsprop, with the loss and metric the spec's multiclass head calls for: sparse
    categorical crossentropy (integer labels) and accuracy.
    """
    compile_model(model, spec, optimizer="rmsprop")

    """
    ## Hold out validation data and train

    The course trains this network for 5 epochs straight; here the first 10,000
    training images are held out first, to check that 5 epochs do not overfit.
    """
    validation_size = 500 if quick else 10_000
    (x_partial, y_partial), (x_val, y_val) = hold_out(x_train, y_train, validation_size)
    epochs = 3 if quick else 5
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
    """
    plots = plot_history(history.history, out)
    print("Wrote", ", ".join(str(path) for path in plots))
    print("Validation accuracy per epoch:", np.round(history.history["val_accuracy"], 4))

    """
    ## Pick the best epoch and retrain

    A fresh model trains on all 60,000 images for the epoch with the lowest validation
    loss (5, or close to it).
    """
    best = best_epoch(history)
    print(f"Lowest validation loss after epoch {best}")
    model = retrain(spec, style, x_train, y_train, TrainConfig(epochs=best, batch_size=BATCH_SIZE))

    """
    ## Evaluate on the test set

    About 98%; a little below the training accuracy, which is overfitting too.
    """
    test_metrics = evaluate(model, x_test, y_test)
    print(f"Test accuracy {test_metrics['accuracy']:.4f}")

    """
    ## Predict

    The predicted digit is the most probable of the 10.
    """
    probabilities = model.predict(x_test[:10], verbose=0)
    print("Predicted:", probabilities.argmax(axis=1))
    print("Actual:   ", y_test[:10])
    print(f"First image: digit {probabilities[0].argmax()} with p={probabilities[0].max():.3f}")

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
            "seconds": round(time.perf_counter() - start, 1),
        },
    )
    return test_metrics


"""
## Run it

    python examples/mnist_dense.py                  # real data (set ANYKERAS_DATA_DIR)
    python examples/mnist_dense.py --quick          # synthetic data, a few seconds
"""

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Classify MNIST digits with a Dense network.")
    parser.add_argument(
        "--quick", action="store_true", help="small synthetic data, 3 epochs (offline)"
    )
    parser.add_argument("--style", choices=STYLES, default="functional", help="how to build")
    parser.add_argument("--out", type=Path, default=Path("runs/mnist_dense"), help="plots here")
    args = parser.parse_args()
    print(main(quick=args.quick, out=args.out, style=args.style))
