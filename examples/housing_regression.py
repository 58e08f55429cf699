"""
Title: Predicting house prices: regression on Boston Housing with k-fold validation
Author: anykeras developers
Description: The course's third problem: predict a suburb's median house price from 13
standardised features with a Dense 64-64-1 network, validated with 4-fold cross-validation
because there are only 404 training samples; a test MAE of about 2,500 dollars.
"""

"""
## Setup

The backend is chosen before Keras is imported. `setdefault` keeps a choice you made
already (`KERAS_BACKEND=torch python examples/housing_regression.py`) and picks JAX
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
from anykeras.data import boston_housing, encoding, synthetic
from anykeras.saving import write_json_atomically
from anykeras.training import best_epoch, compile_model, evaluate, k_fold, retrain
from anykeras.training.plots import plot_curves, plot_history

BATCH_SIZE = 16  # small batches: there are only 404 training samples
FOLDS = 4  # the course's k


def main(
    quick: bool = False, out: Path = Path("runs/housing_regression"), style: str = "functional"
) -> dict[str, float]:
    """Run the course's Boston Housing workflow and return the test metrics.

    With ``quick=True`` it uses synthetic rows of the same shape and a few epochs per
    fold, so it finishes in seconds and works offline.
    """
    start = time.perf_counter()
    keras.utils.set_random_seed(0)  # the same initial weights on every run

    """
    ## Load the data

    404 training and 102 test suburbs of Boston in the mid-1970s, each described by 13
    numbers (crime rate, rooms per dwelling, distance to employment centres, ...) on
    very different scales. The targets are median house prices in thousands of dollars,
    mostly between 10 and 50.

    In quick mode, `synthetic.housing_like` makes rows with the same columns and scales.
    Its 256 training rows cut into 4 folds of whole batches of 16: a last, smaller batch
    would have JAX compile each training step a second time.
    """
    if quick:
        (train_data, train_targets), (test_data, test_targets) = synthetic.housing_like(256, 64)
    else:
        (train_data, train_targets), (test_data, test_targets) = boston_housing.load_data()
    print("train:", train_data.shape, "test:", test_data.shape)
    print("First row:", train_data[0].round(2), "price:", train_targets[0])

    """
    ## Standardise the features

    Features on wildly different ranges make learning harder, so each one is centred
    and scaled to unit standard deviation. The mean and standard deviation come from
    the training data only: the test data must stay unseen, even by the preprocessing.
    """
    x_train, x_test = encoding.standardize(train_data, test_data)
    x_train, x_test = x_train.astype("float32"), x_test.astype("float32")
    y_train = np.asarray(train_targets, dtype="float32")
    y_test = np.asarray(test_targets, dtype="float32")
    print("Standardised means:", x_train.mean(axis=0).round(2)[:5], "...")

    """
    ## Describe and build the model

    Two hidden layers of 64 units and a regression head: a single linear unit that can
    output any price. The spec compiles it with the mean squared error as the loss and
    reports the mean absolute error (MAE), which reads in thousands of dollars. This
    model is one to look at: validation needs a fresh one for each fold, built and
    compiled the same way.
    """
    spec = ClassifierSpec(input_shape=(13,), hidden=(64, 64), task="regression")
    model = compile_model(build(spec, style), spec, optimizer="rmsprop")
    model.summary()
    print("loss:", model.loss, "metrics:", spec.metrics)

    """
    ## Validate with K-fold cross-validation

    Holding out 100 of 404 samples would leave a validation score that depends a lot on
    which 100. Instead the training data is cut into 4 folds; 4 fresh models each train
    on 3 folds and validate on the fourth, and we average their curves. `k_fold` builds,
    compiles and trains the 4 models and returns one `History.history` per fold.
    """
    epochs = 10 if quick else 100
    config = TrainConfig(epochs=epochs, batch_size=BATCH_SIZE, validation_size=None)
    folds = k_fold(spec, style, x_train, y_train, config, k=FOLDS)
    for number, fold in enumerate(folds, start=1):
        print(f"Fold {number}: final validation MAE {fold['val_mae'][-1]:.2f}")

    """
    ## Read the histories

    The per-epoch mean over the folds is one history like any other; the per-fold
    validation MAE shows how much one split alone would have varied.
    """
    mean_history = {
        key: np.mean([fold[key] for fold in folds], axis=0).tolist() for key in folds[0]
    }
    plots = plot_history(mean_history, out)
    per_fold = {f"fold {number}": fold["val_mae"] for number, fold in enumerate(folds, start=1)}
    plots.append(plot_curves(per_fold, Path(out) / "folds_val_mae.png", "Validation MAE", "MAE"))
    print("Wrote", ", ".join(str(path) for path in plots))

    """
    ## Pick the best epoch and retrain

    Past the epoch with the lowest mean validation MAE the models overfit. A fresh
    model is trained for that many epochs on all 404 training samples.
    """
    best = best_epoch(mean_history, monitor="val_mae")
    print(f"Lowest mean validation MAE ({mean_history['val_mae'][best - 1]:.2f}) at epoch {best}")
    model = retrain(spec, style, x_train, y_train, config.replace(epochs=best))

    """
    ## Evaluate on the test set

    The course's model is off by about 2.5, i.e. about 2,500 dollars, on average.
    """
    test_metrics = evaluate(model, x_test, y_test, batch_size=BATCH_SIZE)
    print(f"Test MSE {test_metrics['loss']:.2f}, test MAE {test_metrics['mae']:.2f}")

    """
    ## Predict

    The model's output is a price in thousands of dollars.
    """
    predictions = model.predict(x_test[:5], verbose=0).ravel()
    for predicted, actual in zip(predictions, y_test[:5], strict=True):
        print(f"predicted {predicted:5.1f}k$, actual {actual:5.1f}k$")

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
            "mean_history": mean_history,
            "test": test_metrics,
            "seconds": round(time.perf_counter() - start, 1),
        },
    )
    return test_metrics


"""
## Run it

    python examples/housing_regression.py           # real data (set ANYKERAS_DATA_DIR)
    python examples/housing_regression.py --quick   # synthetic data, a few seconds
"""

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Predict Boston house prices (4-fold).")
    parser.add_argument(
        "--quick", action="store_true", help="synthetic data, a few epochs per fold (offline)"
    )
    parser.add_argument("--style", choices=STYLES, default="functional", help="how to build")
    parser.add_argument(
        "--out", type=Path, default=Path("runs/housing_regression"), help="plots here"
    )
    args = parser.parse_args()
    print(main(quick=args.quick, out=args.out, style=args.style))
