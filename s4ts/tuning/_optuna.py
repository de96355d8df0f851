"""The one place that imports optuna, so a missing extra fails with an instruction, not a traceback."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require_optuna"]


def require_optuna() -> ModuleType:
    """The optuna module, or ImportError naming the extra that installs it."""
    try:
        return importlib.import_module("optuna")
    except ModuleNotFoundError as err:
        raise ImportError(
            "s4ts.tuning needs optuna, which is not installed: pip install 's4ts[tune]' "
            "(optuna and the PostgreSQL driver psycopg2)"
        ) from err
