"""What cannot run together: `RunConfig`'s one table of conflicts, and its error.

Each row of `CONFLICTS` is a test on a `anykeras.RunConfig` and the one-line message
for it ("... Received: ..."). `RunConfig` runs them all at construction, before any
data is read; data-parallel training (`anykeras.loops.distributed_route`) names what
it cannot do from `ONE_DEVICE_ONLY`.

Example:
>>> from anykeras import RunConfig
>>> [message(RunConfig()) for applies, message in CONFLICTS if applies(RunConfig())]
[]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from anykeras.training.route import Route


class RunConfigError(ValueError):
    """Settings that cannot run together, or not here; always raised before data is read."""


#: The fields whose callbacks run inside ``fit``, so not in data-parallel workers.
ONE_DEVICE_ONLY = ("early_stopping", "checkpoint", "backup", "tensorboard", "batch_losses")


def _asked_one_device_only(config: Any) -> list[str]:
    # `is`, not `in`: an early-stopping patience of 0 is asked for (and 0 == False).
    return [
        name
        for name in ONE_DEVICE_ONLY
        if getattr(config, name) is not None and getattr(config, name) is not False
    ]


def _received(config: Any, *names: str) -> str:
    return "Received: " + ", ".join(f"{name}={_shown(getattr(config, name))}" for name in names)


def _shown(value: Any) -> str:
    return repr(value.name) if isinstance(value, Route) else repr(value)


def _layout(config: Any) -> str:
    return "devices" if config.devices > 1 else "processes"


def _with_callbacks(config: Any) -> str:
    asked = _asked_one_device_only(config)
    them = "it" if len(asked) == 1 else "them"
    names = ", ".join(name.replace("_", " ") for name in asked)
    return (
        f"data-parallel training runs in worker processes, where {names} cannot "
        f"run; drop {them}, or train on one device. " + _received(config, _layout(config), *asked)
    )


def cpu_cores() -> int:
    """The CPU cores this process may run on (its affinity, as a launcher or cgroup sets it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _batch_size(config: Any) -> int:
    return config.batch_size or config.base_recipe().config.batch_size


def _folds(config: Any) -> int | None:
    return config.workflow_settings()[1]


def _spec_mismatch(config: Any) -> bool:
    return (
        config.spec is not None
        and config.data is None
        and tuple(config.spec.input_shape) != tuple(config.base_recipe().spec.input_shape)
    )


def _route_needs_words(config: Any) -> bool:
    # Your data's rows are checked by the route itself, once they are read.
    recipe_rows = config.data is None and not config.base_recipe().multi_hot
    return config.route in ("compact", "sparse") and recipe_rows


#: Every conflict between settings, each with its one-line message.
CONFLICTS: tuple[tuple[Callable[[Any], bool], Callable[[Any], str]], ...] = (
    (
        lambda c: c.devices > 1 and c.processes > 1,
        lambda c: (
            "one of devices and processes may be more than 1, not both. "
            + _received(c, "devices", "processes")
        ),
    ),
    (
        lambda c: c.replicas > 1 and c.route_name not in ("auto", "plain"),
        lambda c: (
            "data-parallel training takes the plain route (the faster routes run on "
            "one device). " + _received(c, _layout(c), "route")
        ),
    ),
    (lambda c: c.replicas > 1 and bool(_asked_one_device_only(c)), _with_callbacks),
    (
        lambda c: c.replicas > 1 and _folds(c) is not None,
        lambda c: (
            f"k-fold validation ({_folds(c)} folds, the {c.recipe} recipe's way) trains "
            "on one device. " + _received(c, _layout(c))
        ),
    ),
    (
        lambda c: c.replicas > 1 and _batch_size(c) % c.replicas != 0,
        lambda c: (
            f"the batch size must split evenly over the {c.replicas} replicas. "
            f"Received: batch_size={_batch_size(c)}, {_layout(c)}={c.replicas}"
        ),
    ),
    (
        lambda c: c.processes > cpu_cores(),
        lambda c: (
            f"each of the {c.processes} worker processes needs a CPU core of its own, and this "
            f"machine gives this program {cpu_cores()}; use at most {cpu_cores()} processes. "
            + _received(c, "processes")
        ),
    ),
    (
        lambda c: c.folds is not None and c.validation_size is not None,
        lambda c: (
            "k-fold validation holds out each fold in turn; give folds or "
            "validation_size, not both. " + _received(c, "folds", "validation_size")
        ),
    ),
    (
        _spec_mismatch,
        lambda c: (
            f"the {c.recipe} recipe's data has samples of shape "
            f"{tuple(c.base_recipe().spec.input_shape)}; give a spec with that input_shape, or "
            f"your own data. Received: spec.input_shape={tuple(c.model_spec().input_shape)}"
        ),
    ),
    (
        _route_needs_words,
        lambda c: (
            f"the {c.route} route reads multi-hot word rows (the imdb and reuters "
            "recipes); other data takes the plain route. " + _received(c, "recipe", "route")
        ),
    ),
)


#: The number kinds a model trains on; strings, bytes and Python objects are not among them.
NUMERIC_KINDS = "biuf"


def non_numeric_arrays(arrays: Mapping[str, Any]) -> str | None:
    """The one-line message for the first array that cannot be trained on, or ``None``.

    Reads no values: a memory-mapped file stays on disk.

    Example:
    >>> print(non_numeric_arrays({"x_train": np.array([["good", "bad"]])}))
    x_train must be an array of numbers (bool, int or float). Received: x_train of dtype <U4
    """
    for name, value in arrays.items():
        try:
            dtype = np.asarray(value).dtype
        except ValueError:  # NumPy refuses rows of different lengths
            dtype = np.dtype(object)
        if dtype.kind not in NUMERIC_KINDS:
            ragged = " (rows of different lengths, or Python objects: pad them to one shape)"
            why = ragged if dtype.kind == "O" else ""
            return (
                f"{name} must be an array of numbers (bool, int or float){why}. "
                f"Received: {name} of dtype {dtype.str if dtype.kind != 'O' else 'object'}"
            )
    return None


SINGULAR = {"processes": "process", "devices": "device"}


def uneven_last_batch(
    sizes: Mapping[str, int], batch_size: int, replicas: int, layout: str
) -> str | None:
    """The one-line message when a phase's last batch does not split over the replicas.

    ``sizes`` names each phase's samples (known once the data is read, before training);
    the message lists the replica counts that would split every phase.

    Example:
    >>> message = uneven_last_batch({"training samples": 1125}, 512, 4, "processes")
    >>> message.split("; ")
    ['the last batch must split over the 4 processes too, but 1,125 training samples in \
batches of 512 leave 101', '1 process splits every batch here. Received: processes=4']
    >>> uneven_last_batch({"training samples": 1024}, 512, 2, "processes") is None
    True
    """

    def splits(parts: int) -> bool:
        return batch_size % parts == 0 and all(n % batch_size % parts == 0 for n in sizes.values())

    uneven = [(name, n) for name, n in sizes.items() if n % batch_size % replicas]
    if not uneven:  # the whole batches: CONFLICTS' rule, checked before the data is read
        return None
    name, n = uneven[0]
    working = [str(parts) for parts in range(1, replicas) if splits(parts)]  # 1 always does
    if working == ["1"]:
        these = f"1 {SINGULAR[layout]} splits"
    else:
        these = f"{', '.join(working[:-1])} or {working[-1]} {layout} split"
    return (
        f"the last batch must split over the {replicas} {layout} too, but {n:,} {name} in "
        f"batches of {batch_size} leave {n % batch_size}; {these} every batch "
        f"here. Received: {layout}={replicas}"
    )
