"""Every serialization problem of a model, found in one run, before Keras stops at the first.

Keras rebuilds a saved model object by object and stops at the first that fails, so a
model with two broken layers needs two fixes and two runs to find both.
`config_problems` walks every layer of the model (nested ones too) and every custom
object in their configs (initializers, regularizers, constraints), and checks each
custom class on its own: registered with `keras.saving.register_keras_serializable`;
a ``get_config()`` that works; an ``__init__`` that takes every key of that config
(Keras passes ``name``, ``trainable`` and ``dtype`` back to a layer) and whose
arguments all appear in it; and a rebuild from the config that works (Keras's own
line is quoted when it does not). Keras's own classes are trusted.

Example:
>>> import keras
>>> class Twice(keras.layers.Layer):
...     def __init__(self, factor=2.0):
...         super().__init__()
...         self.factor = factor
...     def call(self, x):
...         return x * self.factor
>>> model = keras.Sequential([keras.Input((3,)), Twice()])
>>> for problem in config_problems(model):
...     print(problem.split(":")[0])
Twice is not registered with Keras
Twice.__init__ takes no **kwargs
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from anykeras.testing.advice import BASE_KEYS, class_nodes, keras_line, kwargs_fix

if TYPE_CHECKING:
    import keras

__all__ = ["config_problems", "signature_problems"]

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _custom(cls: type) -> bool:
    return not cls.__module__.startswith("keras.")


def _layers(model: keras.Model) -> Iterator[Any]:
    flatten = getattr(model, "_flatten_layers", None)
    yield from flatten(include_self=True) if flatten else [model, *model.layers]


def _from_config_is_keras(cls: type) -> bool:
    """Keras's own ``from_config`` is ``cls(**config)``: the signature must fit the config."""
    method = inspect.getattr_static(cls, "from_config", None)
    owner = next((k for k in cls.__mro__ if "from_config" in vars(k)), object)
    return method is None or not _custom(owner)


def signature_problems(cls: type, config: dict[str, Any]) -> list[str]:
    """Where ``cls.__init__`` and the config its ``get_config`` returns do not fit.

    Example:
    >>> class Scale:
    ...     def __init__(self, factor, bias=0.0):
    ...         pass
    >>> for problem in signature_problems(Scale, {"name": "scale", "factor": 2.0}):
    ...     print(problem.split(":")[0])
    Scale.__init__ takes no **kwargs
    Scale.get_config() does not return 'bias', argument(s) of Scale.__init__
    """
    name = cls.__name__
    init = cls.__init__  # type: ignore[misc]  # the class's own, not an instance's
    parameters = list(inspect.signature(init).parameters.values())[1:]  # not self
    named = [p.name for p in parameters if p.kind in _NAMED]
    problems = []
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        extra = [key for key in config if key not in named]
        base = [key for key in extra if key in BASE_KEYS]
        if base:
            problems.append(kwargs_fix(name))
        if len(extra) > len(base):
            others = ", ".join(repr(key) for key in extra if key not in BASE_KEYS)
            problems.append(
                f"{name}.get_config() returns {others}, which {name}.__init__ does not "
                "take: return only __init__ arguments, or accept **kwargs"
            )
    missing = [key for key in named if key not in config]
    if missing:
        problems.append(
            f"{name}.get_config() does not return {', '.join(map(repr, missing))}, "
            f"argument(s) of {name}.__init__: rebuilt from its config, a {name} takes the "
            "default or fails; add them (config.update(units=self.units, ...))"
        )
    return problems


def _rebuild(layer: Any) -> tuple[Any, str]:
    """The layer's serialized form, and why rebuilding from it fails ("" if it does not)."""
    import keras

    serialized = None
    custom = {type(layer).__name__: type(layer)}  # registration is checked on its own
    try:
        serialized = keras.saving.serialize_keras_object(layer)
        keras.saving.deserialize_keras_object(serialized, custom_objects=custom)
    except Exception as error:
        return serialized, keras_line(error)
    return serialized, ""


def _registered(cls: type) -> bool:
    import keras

    return keras.saving.get_registered_object(keras.saving.get_registered_name(cls)) is cls


def _unregistered(name: str) -> str:
    return (
        f"{name} is not registered with Keras: decorate it with "
        "@keras.saving.register_keras_serializable(package=...) and import its module "
        "before loading"
    )


def _layer_problems(layer: Any) -> tuple[list[str], Any]:
    """The problems of one custom layer's class, and its serialized form (None if none)."""
    cls = type(layer)
    problems = [] if _registered(cls) else [_unregistered(cls.__name__)]
    try:
        config = layer.get_config()
    except Exception as error:
        return [*problems, f"{cls.__name__}.get_config() fails: {keras_line(error)}"], None
    signature = signature_problems(cls, config) if _from_config_is_keras(cls) else []
    serialized, failed = _rebuild(layer)
    if failed and signature:  # the signature says why; Keras's line proves it
        signature[0] = f"{signature[0]} (Keras: {failed})"
    elif failed:
        signature.append(f"{cls.__name__} cannot be rebuilt from its config: {failed}")
    return [*problems, *signature], serialized


def _nested_objects(config: Any) -> Iterator[dict[str, Any]]:
    """The serialized custom objects inside a layer's config (initializers, ...)."""
    for node in class_nodes(config):
        if isinstance(node.get("config"), dict) and not str(node.get("module")).startswith("keras"):
            yield node


def _object_problems(node: dict[str, Any], seen: set[str]) -> list[str]:
    import keras

    name, registered_name = str(node["class_name"]), node.get("registered_name") or ""
    if name in seen or name == "function" or not isinstance(node.get("config"), dict):
        return []
    seen.add(name)
    cls = keras.saving.get_registered_object(registered_name)
    if not isinstance(cls, type):
        return [_unregistered(name)] if cls is None else []
    if issubclass(cls, keras.layers.Layer) or not _from_config_is_keras(cls):
        return []  # layers are walked on their own; a from_config of its own is trusted
    return signature_problems(cls, node["config"])


def _keras_config(layer: Any) -> dict[str, Any]:
    """A Keras layer's config, where custom initializers, regularizers, ... may be."""
    try:
        return dict(layer.get_config())
    except Exception:  # a Keras layer holding a broken custom object; found where it fails
        return {}


def config_problems(model: keras.Model) -> list[str]:
    """Every serialization problem of ``model``'s custom classes, one line each.

    Args:
        model: A Keras model; its layers, nested ones too, and the custom objects in
            their configs are checked, each class once.

    Returns:
        One line per problem, each naming the class and what to change; ``[]`` when
        every custom class is registered and rebuilds from its config.
    """
    import keras

    problems: list[str] = []
    seen: set[str] = set()
    objects: set[str] = set()  # apart: a layer named in a config is still walked itself
    for layer in _layers(model):
        cls = type(layer)
        if _custom(cls) and cls.__name__ not in seen:
            seen.add(cls.__name__)
            found, serialized = _layer_problems(layer)
            problems += found
            config = serialized.get("config", {}) if serialized else {}
        elif _custom(cls) or isinstance(layer, keras.Model):
            continue  # a class checked already; a Keras model's layers are walked anyway
        else:
            config = _keras_config(layer)
        for node in _nested_objects(config):
            problems += _object_problems(node, objects)
    return list(dict.fromkeys(problems))  # an unregistered layer may be named twice
