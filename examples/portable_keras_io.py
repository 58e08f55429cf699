"""
Title: Three keras.io models, checked on every backend
Description: `anykeras.testing.check_portable` on models nobody here wrote.

Keras 3 examples say they run on JAX, PyTorch and TensorFlow. This script takes three
of them as keras.io writes them, builds each under every backend installed on this
machine (each in its own process), saves it, loads every file under every other
backend, and compares the outputs and one optimizer step:

- the **Simple MNIST convnet** (keras.io/examples/vision/mnist_convnet);
- the **Text classification from scratch** model (keras.io/examples/nlp/
  text_classification_from_scratch), with its `TextVectorization` layer replaced by
  integer word ids, as the example's own "model without the preprocessing" takes;
- the **ticket classifier** of the Functional API guide (keras.io/guides/
  functional_api): three inputs, two outputs, two LSTMs.

Each is built and compiled exactly as the example does (same layers, sizes, losses and
optimizers); the data is random, in the example's shapes (the guide's own data is
random too).

## What it finds

Every file loads on every backend and predicts the same (within 1.2e-7), and JAX and
PyTorch take the same optimizer step (within 1e-6). TensorFlow takes another step for
two of the three models, for two different reasons, both in the weights' update, not
in the loss (the losses agree to 1e-7):

- **text classifier**: the `Embedding`'s gradient is sparse on TensorFlow
  (`tf.IndexedSlices`), and Keras's Adam squares it slice by slice, before the
  slices of a word that occurs twice in the batch are added up: the second moment
  of a repeated word is the sum of squares, not the square of the sum. Rows of
  repeated words move by up to `learning_rate` less or more (8.7e-4 here). With no
  word repeated in the batch, TensorFlow's step matches (1.4e-6).
- **ticket classifier**: the guide's department labels are random multi-hot rows,
  not probability distributions, and TensorFlow's fused softmax cross-entropy
  gradient (`softmax - labels`) assumes they are (the exact gradient is
  `softmax * sum(labels) - labels`, which JAX and PyTorch compute). The department
  head's step differs (6.3e-3). With one-hot labels, TensorFlow matches (4e-8).

    python examples/portable_keras_io.py                 # every backend found
    python examples/portable_keras_io.py --backends jax torch --out runs/portable
    python examples/portable_keras_io.py --quick         # this backend only, tiny batches

The exit status is 0 once every check has run (`--strict`: 1 if any failed).

A backend installed in another environment is found through nox's
`.nox/test-<backend>` folders in the working directory, or named with `--python
torch=/path/to/python`.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import argparse
import json
from pathlib import Path

import keras
import numpy as np
from keras import layers

from anykeras.testing import PortabilityReport, check_portable

HERE = Path(__file__).resolve()

## Simple MNIST convnet


def mnist_convnet() -> keras.Model:
    num_classes, input_shape = 10, (28, 28, 1)
    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def mnist_data(rng: np.random.Generator, n: int) -> tuple:
    x = rng.uniform(size=(n, 28, 28, 1)).astype("float32")  # pixels scaled to [0, 1]
    y = keras.utils.to_categorical(rng.integers(0, 10, size=n), 10)
    return x, y


## Text classification from scratch (integer inputs)


def text_classifier() -> keras.Model:
    max_features, embedding_dim = 20000, 128
    inputs = keras.Input(shape=(None,), dtype="int64")
    x = layers.Embedding(max_features, embedding_dim)(inputs)
    x = layers.Dropout(0.5)(x)
    x = layers.Conv1D(128, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.Conv1D(128, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    predictions = layers.Dense(1, activation="sigmoid", name="predictions")(x)
    model = keras.Model(inputs, predictions)
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def text_data(rng: np.random.Generator, n: int) -> tuple:
    sequence_length = 500  # the example's TextVectorization output_sequence_length
    x = rng.integers(0, 20000, size=(n, sequence_length)).astype("int64")
    return x, rng.integers(0, 2, size=(n, 1)).astype("float32")


## The Functional API guide's ticket classifier (three inputs, two outputs)


def ticket_classifier() -> keras.Model:
    num_tags, num_words, num_departments = 12, 10000, 4
    title_input = keras.Input(shape=(None,), name="title")
    body_input = keras.Input(shape=(None,), name="body")
    tags_input = keras.Input(shape=(num_tags,), name="tags")
    title_features = layers.Embedding(num_words, 64)(title_input)
    body_features = layers.Embedding(num_words, 64)(body_input)
    title_features = layers.LSTM(128)(title_features)
    body_features = layers.LSTM(32)(body_features)
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(num_departments, name="department")(x)
    model = keras.Model(
        inputs=[title_input, body_input, tags_input],
        outputs={"priority": priority_pred, "department": department_pred},
    )
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "priority": keras.losses.BinaryCrossentropy(from_logits=True),
            "department": keras.losses.CategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
    )
    return model


def ticket_data(rng: np.random.Generator, n: int) -> tuple:
    x = {
        "title": rng.integers(0, 10000, size=(n, 10)),
        "body": rng.integers(0, 10000, size=(n, 100)),
        "tags": rng.integers(0, 2, size=(n, 12)).astype("float32"),
    }
    y = {
        "priority": rng.random(size=(n, 1)).astype("float32"),
        "department": rng.integers(0, 2, size=(n, 4)).astype("float32"),
    }
    return x, y


MODELS = {
    "mnist_convnet": mnist_data,
    "text_classifier": text_data,
    "ticket_classifier": ticket_data,
}

## Check each on every backend


def main(
    backends=None, batch: int = 8, out: Path | None = None, pythons=None, names=tuple(MODELS)
) -> dict[str, PortabilityReport]:
    """Run check_portable on each model; print and return the reports."""
    rng = np.random.default_rng(0)
    reports = {}
    for name in names:
        x, y = MODELS[name](rng, batch)
        reports[name] = check_portable(
            f"{HERE}:{name}", x, backends=backends, y=y, pythons=pythons, raise_on_failure=False
        )
        print(reports[name], end="\n\n")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        summary = {name: _summary(report) for name, report in reports.items()}
        (out / "results.json").write_text(json.dumps(summary, indent=2) + "\n")
    return reports


def _summary(report: PortabilityReport) -> dict:
    pairs = {
        f"{p.saver}->{p.loader}": {
            "outputs": p.output_diff,
            "step": p.step_diff,
            "passed": p.passed,
            "problem": p.problem(),
        }
        for p in report.pairs
    }
    return {
        "passed": report.passed,
        "pairs": pairs,
        "save_errors": report.save_errors,
        "skipped": report.skipped,
        "notes": report.notes,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    parser.add_argument("--backends", nargs="+", choices=("jax", "torch", "tensorflow"))
    parser.add_argument("--batch", type=int, default=8, help="examples per input batch")
    parser.add_argument("--out", type=Path, help="write results.json here")
    parser.add_argument("--python", action="append", default=[], metavar="BACKEND=PATH")
    parser.add_argument("--quick", action="store_true", help="this backend only, batches of 2")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any check failed")
    args, _ = parser.parse_known_args()  # `nox -s examples` passes every script its options
    pythons = dict(item.split("=", 1) for item in args.python)
    backends = [keras.backend.backend()] if args.quick else args.backends
    reports = main(backends, 2 if args.quick else args.batch, args.out, pythons)
    raise SystemExit(1 if args.strict and not all(r.passed for r in reports.values()) else 0)
