"""Figures of a finished study: objective per trial with the best so far, parameter importances."""

from __future__ import annotations

import os

from s4ts.tuning._optuna import require_optuna

__all__ = ["plot_history", "plot_importances"]


def _save(fig, path: str | os.PathLike | None):
    if path is not None:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig


def plot_history(study, metric: str, path: str | os.PathLike | None = None):
    """Complete trials' values by trial number, the best so far as a step line, pruned trials
    as grey lines; saved to `path` (PNG) if given. Returns the figure."""
    import matplotlib.pyplot as plt

    optuna = require_optuna()
    states = optuna.trial.TrialState
    complete = [t for t in study.trials if t.state == states.COMPLETE]
    if not complete:
        raise ValueError(f"study {study.study_name!r} has no complete trial to plot")
    fig, ax = plt.subplots(figsize=(7, 4))
    numbers = [t.number for t in complete]
    values = [t.value for t in complete]
    ax.scatter(numbers, values, s=18, label=f"{metric} of a trial")
    better = min if study.direction == optuna.study.StudyDirection.MINIMIZE else max
    best = [better(values[: i + 1]) for i in range(len(values))]
    ax.step(numbers, best, where="post", color="C1", label="best so far")
    pruned = [t for t in study.trials if t.state == states.PRUNED]
    for i, t in enumerate(pruned):  # a pruned trial has no value: a grey line marks its number
        ax.axvline(t.number, color="0.85", lw=0.8, zorder=0, label="pruned" if i == 0 else None)
    ax.set_xlabel("trial")
    ax.set_ylabel(metric)
    ax.set_title(f"study {study.study_name}: {len(complete)} complete, {len(pruned)} pruned")
    ax.legend(loc="best", fontsize=8)
    return _save(fig, path)


def plot_importances(study, path: str | os.PathLike | None = None):
    """Horizontal bars of each parameter's importance (optuna's fANOVA over complete trials);
    saved to `path` (PNG) if given. Returns the figure."""
    import matplotlib.pyplot as plt

    optuna = require_optuna()
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < 2:
        raise ValueError(
            f"study {study.study_name!r} has {len(complete)} complete trial(s); importances need at least two"
        )
    importances = optuna.importance.get_param_importances(study)
    if not importances:
        raise ValueError(f"study {study.study_name!r}: no parameter varied between complete trials")
    names = list(importances)[::-1]  # the most important on top
    fig, ax = plt.subplots(figsize=(6, 0.4 * len(names) + 1.2))
    ax.barh(names, [importances[n] for n in names])
    ax.set_xlabel("importance (fANOVA)")
    ax.set_title(f"study {study.study_name}: {len(complete)} complete trials")
    return _save(fig, path)
