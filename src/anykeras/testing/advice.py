"""What to fix when a model does not save or load: Keras's error, plus the likely cause.

Keras's own messages for the two commonest mistakes are far from their cause: a
custom layer that is not registered fails to load with "Sequential could not be
deserialized properly", and a subclassed model without ``get_config`` fails to save
with a generic example. `unregistered_classes` reads a ``.keras`` file's config and
names the custom classes Keras will not find; `explain` turns an error into one
message that says what to do, quoting Keras's own line that names the cause (`cause`:
the innermost of the errors Keras nests, one per object it was rebuilding).

Example:
>>> config = {"class_name": "Scale", "module": None, "registered_name": "Scale"}
>>> unregistered_classes(config)
['Scale']
>>> print(explain(TypeError("could not be deserialized"), ["Scale"]).splitlines()[0])
TypeError: could not be deserialized
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "GET_CONFIG",
    "REGISTER",
    "WEIGHT_ORDER",
    "cause",
    "class_nodes",
    "explain",
    "keras_line",
    "kwargs_fix",
    "read_config",
    "unregistered_classes",
]

REGISTER = (
    "Register every custom class with @keras.saving.register_keras_serializable"
    "(package=...) and import the module that defines it before loading: Keras "
    "finds a custom class by its registered name only."
)
GET_CONFIG = (
    "Add a get_config() to the custom class that returns every __init__ argument "
    "(config = super().get_config(); config.update(units=self.units, ...)), and a "
    "from_config() if an argument is not plain JSON (a layer, a spec object)."
)
WEIGHT_ORDER = (
    "The weights in the file do not fit this backend's model: a layer creates its "
    "weights in another order or shape here than where the file was saved. Create "
    "them in build(), in one fixed order, whatever the backend."
)
_ORDER_SIGN = "shape of the target variable"
_LONGEST = 800  # characters of Keras's message kept
_TAILS = ("\n\nconfig=", "\n\nExample:")
_CONFIG_SIGNS = ("get_config", "from_config", "required positional argument")
_NESTED = "Exception encountered:"  # Keras nests one error per object it was rebuilding
_CAUSE_TAILS = (" Full object config:", " using config=", "\n\nconfig=")
# "TransformerBlock.__init__() got an unexpected keyword argument 'trainable'"
_UNEXPECTED = re.compile(r"(\w+)\.__init__\(\) got an unexpected keyword argument '(\w+)'")
# What Keras's base get_config gives every layer and passes back to __init__.
BASE_KEYS = ("name", "trainable", "dtype")


def kwargs_fix(class_name: str) -> str:
    """The fix for a custom ``__init__`` that cannot take the keys Keras passes back."""
    return (
        f"{class_name}.__init__ takes no **kwargs: Keras passes {', '.join(BASE_KEYS)} when "
        "it rebuilds the layer; accept **kwargs and pass them to super().__init__(**kwargs)"
    )


def cause(error: BaseException | str) -> str:
    r"""Keras's own line that names the cause: the innermost of its nested errors.

    Example:
    >>> cause("A could not be deserialized.\n\nconfig={}.\n\nException encountered: "
    ...       "A.__init__() got an unexpected keyword argument 'name'")
    "A.__init__() got an unexpected keyword argument 'name'"
    """
    message = str(error)
    if _NESTED not in message:
        return ""
    line = message.rsplit(_NESTED, maxsplit=1)[1]
    for tail in _CAUSE_TAILS:
        line = line.split(tail, maxsplit=1)[0]
    return " ".join(line.split())[:_LONGEST]


def _trimmed(message: str) -> str:
    for tail in _TAILS:  # Keras appends the whole config, or a generic example
        message = message.split(tail, maxsplit=1)[0]
    return " ".join(message.split())


def keras_line(error: BaseException) -> str:
    r"""Keras's line that names the cause (see `cause`), or its type and message, trimmed.

    Example:
    >>> keras_line(NotImplementedError("\nObject N needs a get_config().\n\nExample: ..."))
    'NotImplementedError: Object N needs a get_config().'
    """
    return cause(error) or f"{type(error).__name__}: {_trimmed(str(error))[:_LONGEST]}"


def read_config(path: str | Path) -> dict[str, Any]:
    """The ``config.json`` of a ``.keras`` file (the model's architecture)."""
    with zipfile.ZipFile(path) as archive:
        return dict(json.loads(archive.read("config.json")))


def class_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every serialized Keras object in a config, nested ones too, outermost first."""
    if isinstance(node, dict):
        if "class_name" in node and "registered_name" in node:
            yield node
        for value in node.values():
            yield from class_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from class_nodes(value)


def unregistered_classes(config: dict[str, Any], here: bool = False) -> list[str]:
    """Names of the custom classes in ``config`` that Keras cannot find by name.

    Args:
        config: A ``.keras`` file's config (see `read_config`).
        here: Also name the classes registered when saved but not in this process
            (imports Keras); otherwise only those never registered.

    Returns:
        Class names, each once, in the order they appear.
    """
    found = []
    for node in class_nodes(config):
        module, name = node.get("module"), node.get("registered_name")
        if not name or (module and str(module).split(".")[0] == "keras"):
            continue
        if ">" not in name or (here and _registered(name) is None):
            found.append(str(node["class_name"]))
    return list(dict.fromkeys(found))


def _registered(name: str) -> Any:
    import keras

    return keras.saving.get_registered_object(name)


def explain(error: BaseException, unregistered: Sequence[str] = ()) -> str:
    """``error`` as one message, followed by what to fix when the cause is a known one.

    Args:
        error: What saving or loading raised.
        unregistered: Custom classes Keras cannot find (see `unregistered_classes`).

    Returns:
        ``"<type>: <message>"``, then, where it applies, the fix.
    """
    message = _trimmed(str(error))
    text = (
        f"{type(error).__name__}: {message[:_LONGEST]}{' ...' if len(message) > _LONGEST else ''}"
    )
    innermost = cause(error)
    if innermost:  # Keras's first lines name the outermost object only
        text = f"{text}\nCause, in Keras's words: {innermost}"
    if unregistered:  # the cause, whatever Keras's message says
        return f"{text}\nFix: not registered with Keras: {', '.join(unregistered)}. {REGISTER}"
    unexpected = _UNEXPECTED.search(innermost or str(error))
    if unexpected and unexpected.group(2) in BASE_KEYS:
        return f"{text}\nFix: {kwargs_fix(unexpected.group(1))}"
    if unexpected:
        return (
            f"{text}\nFix: {unexpected.group(1)}.get_config() returns "
            f"'{unexpected.group(2)}', which its __init__ does not take: return only "
            "__init__ arguments, or accept **kwargs"
        )
    if isinstance(error, NotImplementedError) or any(s in str(error) for s in _CONFIG_SIGNS):
        return f"{text}\nFix: {GET_CONFIG}"
    if _ORDER_SIGN in str(error):
        return f"{text}\nFix: {WEIGHT_ORDER}"
    return text
