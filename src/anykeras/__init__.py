"""anykeras: the course's Keras 3 classifier, written once, on any backend.

Example:
>>> from anykeras import ClassifierSpec, build, STYLES
>>> spec = ClassifierSpec(input_shape=(10000,), hidden=(16, 16), activation="relu")
>>> model = build(spec, style="functional")
>>> model.count_params()
160305
"""

from anykeras.builders import STYLES, Classifier, build
from anykeras.layers import MultiHot, SimpleDense
from anykeras.spec import ClassifierSpec

__version__ = "0.1.0"

__all__ = [
    "STYLES",
    "Classifier",
    "ClassifierSpec",
    "MultiHot",
    "SimpleDense",
    "__version__",
    "build",
]
