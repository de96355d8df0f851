"""s4ts: time-series forecasting and classification with structured state space models."""

from __future__ import annotations

import importlib
from typing import Any

from s4ts._version import __version__

# Estimators load lazily so `import s4ts` (and s4ts.ssm alone) stays light.
_LAZY = {
    "S4Forecaster": "s4ts.forecasting",
    "S4Classifier": "s4ts.classification",
    "ModelFileError": "s4ts._persistence",
}
__all__ = ["ModelFileError", "S4Classifier", "S4Forecaster", "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 's4ts' has no attribute {name!r}")
