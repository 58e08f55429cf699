"""Which device Keras computes on, asked through Keras itself (no backend import)."""

from __future__ import annotations

import keras


def current_device() -> str:
    """The device a new tensor lands on, e.g. ``"cpu"`` or ``"gpu (cuda:0)"``.

    Example:
    >>> current_device().split()[0] in {"cpu", "gpu", "tpu"}
    True
    """
    tensor = keras.ops.zeros(())
    raw = getattr(tensor, "device", None)
    if callable(raw):  # older JAX arrays
        raw = raw()
    if raw is None and hasattr(tensor, "devices"):
        raw = next(iter(tensor.devices()))
    name = str(raw)
    lowered = name.lower()
    kind = (
        "gpu" if ("cuda" in lowered or "gpu" in lowered) else "tpu" if "tpu" in lowered else "cpu"
    )
    return f"{kind} ({name})"
