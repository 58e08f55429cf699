r"""Prove your own Keras 3 model runs the same on JAX, PyTorch and TensorFlow.

The checks anykeras runs on its own models, for any project's models:

- `assert_same_model`: two models (a Sequential and a subclassed one, say) hold
  the same weights, predict the same with them, and train the same.
- `check_portable`: built and saved under each installed backend, in its own
  process, the model loads under every other backend and gives the same outputs
  and the same optimizer step. Returns a `PortabilityReport`.
- `assert_save_reload`: the quick same-process round trip through a ``.keras`` file.
- `config_problems`: every serialization problem of a model's custom classes, in one
  run (the two checks above report them too, with Keras's own line for the cause).
- a passing check says how close it came: `assert_same_model` returns, and a
  `PortabilityReport` prints, the output and the weight with the largest difference
  and their share of the tolerance (`Margins`).
- `make_golden` / `check_golden`: a model file, an input batch and its expected
  outputs and step, made once and checked in every backend's test session
  (``python -m anykeras.testing.golden make|check``).
- `find_backend_code` / `assert_backend_agnostic`: an ``ast`` lint for backend
  imports and NumPy calls inside ``call`` (``python -m anykeras.testing.lint``).
- `nox_sessions`: one ``test-<backend>`` nox session per backend.
- a pytest plugin (`anykeras.testing.plugin`, loaded automatically once anykeras is
  installed) with fixtures of these and a ``backends(...)`` marker.

Importing this package imports neither Keras nor a backend: the names load lazily.

Example:
>>> from anykeras.testing import find_backend_code
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "layer.py"
>>> _ = path.write_text("import torch\n")
>>> [finding.message for finding in find_backend_code([path])]
['imports torch: a backend; use keras.ops (or keras.random, keras.layers) instead']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from anykeras import lazy_facade

if TYPE_CHECKING:
    from anykeras.testing.config_checks import config_problems
    from anykeras.testing.golden import check_golden, make_golden
    from anykeras.testing.lint import Finding, assert_backend_agnostic, find_backend_code
    from anykeras.testing.margins import Margin, Margins
    from anykeras.testing.portability_report import PairResult, PortabilityReport
    from anykeras.testing.portable import check_portable
    from anykeras.testing.same_model import assert_same_model
    from anykeras.testing.save_reload import assert_save_reload
    from anykeras.testing.sessions import nox_sessions


# The names of the imports above, each listed once, imported on first use.
_EXPORTS, __getattr__, __dir__ = lazy_facade(__name__, __file__)
__all__ = sorted(_EXPORTS)
