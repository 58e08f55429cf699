"""Load every other backend's saved demo models and compare their predictions."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from anykeras.demo.train import demo_recipe
from anykeras.saving import write_json_atomically


def load(artifacts: Path, quick_mode: bool) -> None:
    """Load every other backend's saved models; compare with the saver's predictions."""
    from anykeras.saving import load_model

    data = demo_recipe(quick_mode).dataset()
    backend = keras.backend.backend()
    results = []
    for model_path in sorted(artifacts.glob("*/*/model.keras")):
        saver, style = model_path.parent.parent.name, model_path.parent.name
        if saver == backend:
            continue
        model = load_model(model_path, compile=False)
        predictions = model.predict(data.x_test, batch_size=1024, verbose=0)
        expected = np.load(model_path.parent / "predictions.npy", allow_pickle=False)
        difference = float(np.max(np.abs(predictions - expected)))
        results.append(
            {"saver": saver, "loader": backend, "style": style, "max_abs_diff": difference}
        )
        print(
            f"{backend:>10} loaded {saver}/{style}: largest prediction difference {difference:.2e}"
        )
    write_json_atomically(artifacts / backend / "loaded.json", results)
