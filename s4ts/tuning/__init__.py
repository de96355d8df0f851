"""Optuna tuning of S4Forecaster and S4Classifier (the `tune` extra: pip install 's4ts[tune]').

`tune(estimator, data)` runs a study over the estimator's parameters (default spaces in
`default_search_space`), scoring each trial on data it did not fit, pruning poor trials on
their per-epoch validation loss, and refits the chosen settings (the best trial's, or the
estimator's own unless a trial beats them clearly) on all the data. Studies live in memory,
in an SQLite file (resumable) or in PostgreSQL (many workers; see `open_storage`).
Importing this package works without optuna; calling into it says which extra to install.
"""

from s4ts.tuning.spaces import default_search_space
from s4ts.tuning.storage import open_storage
from s4ts.tuning.study import TuningResult, tune

__all__ = ["TuningResult", "default_search_space", "open_storage", "tune"]
