"""Choosing a cell's S4Forecaster on the protocol's validation split with an Optuna study.

`--tune N` samples N settings with TPE from the bench's space (or from the `--search` values)
and prunes trials whose per-epoch validation loss trails the median; `--search` alone trains
every combination of its values (Optuna's grid sampler, no pruning). Either way a trial is the
estimator users get, trained on the train split with the validation split held out, and is
scored by its MSE on every stride-1 validation window; the test split takes no part.
"""

from __future__ import annotations

import math
import time
from typing import Any

from s4ts.bench.informer.forecaster import PROTOCOL_SETTINGS, Trial, scored_on_validation, train_s4
from s4ts.bench.informer.protocol import ProtocolData
from s4ts.forecasting import S4Forecaster
from s4ts.tuning._optuna import require_optuna
from s4ts.tuning.objective import Objective
from s4ts.tuning.pruning import PruningCallback
from s4ts.tuning.spaces import check_names, current_params, default_search_space
from s4ts.tuning.storage import open_study
from s4ts.tuning.study import default_pruner, default_sampler, optuna_logs, run_study

__all__ = ["CONTEXT_CHOICES", "bench_space", "choose"]

# The context lengths the Informer-protocol literature compares (96 in Informer, 336 in DLinear).
CONTEXT_CHOICES = (96, 192, 336, 720)


def bench_space(estimator: S4Forecaster, train_rows: int) -> dict[str, Any]:
    """The library's default space with the protocol's context lengths (those shorter than the
    train split) in place of multiples of the horizon."""
    distributions = require_optuna().distributions
    space = default_search_space(estimator)
    space["context_length"] = distributions.CategoricalDistribution(
        [n for n in CONTEXT_CHOICES if n < train_rows] or [estimator.context_length]
    )
    return space


class ProtocolObjective(Objective):
    """Fit a trial's S4Forecaster on the train split; its objective is the validation MSE."""

    def __init__(self, data: ProtocolData, estimator: S4Forecaster, space: dict[str, Any], stride: int) -> None:
        super().__init__(estimator, space, "mse")
        self.data, self.stride = data, stride
        self.trained: list[Trial] = []

    def _scores(self, model: S4Forecaster, pruning: PruningCallback) -> tuple[dict[str, float], dict]:
        model.fit(self.data.frame(self.data.ends[1]))
        if pruning.pruned:
            return {}, {}
        overrides = _bench_names({name: model.get_params()[name] for name in self.space})
        trial = scored_on_validation(model, self.data, overrides, self.stride)
        self.trained.append(trial)
        return {"mse": trial.val_mse}, {}  # the cell keeps the lowest validation MSE


def _bench_names(params: dict) -> dict:
    """Estimator parameters as the bench names them (its context length is `seq_len`)."""
    return {("seq_len" if name == "context_length" else name): value for name, value in params.items()}


def _grid_space(grid: dict[str, list]) -> dict[str, list]:
    """`--search` values as the estimator's parameters (seq_len is its context_length)."""
    return {("context_length" if key == "seq_len" else key): list(values) for key, values in grid.items()}


def choose(data: ProtocolData, seq_len: int, horizon: int, params: dict, grid: dict[str, list],
           n_trials: int = 0, seed: int = 0, val_stride: int = 1) -> tuple[Trial, dict, list[int]]:
    """The cell's best trial on validation, a summary of the study (every trial's parameters,
    state, validation MSE and epochs; counts; seconds), and the context lengths searched (for
    the baseline). `n_trials` > 0: TPE with pruning over `grid`'s values, or over the bench
    space when `grid` is empty; 0: every combination of `grid` (one training when it is empty).
    Trials are scored on every `val_stride`-th validation window."""
    if not grid and not n_trials:  # nothing to choose: no study, and no need of optuna
        return train_s4(data, seq_len, horizon, params, {}, val_stride), {"trials": []}, [seq_len]
    optuna = require_optuna()
    train_end, val_end, _ = data.ends
    estimator = S4Forecaster(horizon=horizon, context_length=seq_len, val_size=val_end - train_end,
                             **{**PROTOCOL_SETTINGS, **params})
    space = _grid_space(grid) if grid else bench_space(estimator, train_end)
    check_names(space, estimator, "--search")
    if n_trials:
        sampler, pruner = default_sampler(seed), default_pruner()
    else:
        sampler, pruner = optuna.samplers.GridSampler(space, seed=seed), optuna.pruners.NopPruner()
        n_trials = math.prod(len(values) for values in space.values())
    objective = ProtocolObjective(data, estimator, space, val_stride)
    started = time.perf_counter()
    with optuna_logs(True):
        study = open_study(None, None, {"estimator": "S4Forecaster", "metric": "mse"}, "minimize", sampler, pruner)
        if n_trials and not grid:  # TPE starts from the configuration the command line gives
            study.enqueue_trial(current_params(estimator, space))
        run_study(study, objective, n_trials, None, 1, verbose=False)
    if not objective.trained:
        states = [t.state.name for t in study.trials]
        raise RuntimeError(f"{data.name} H={horizon}: no trial finished unpruned ({states})")
    states = [t.state.name for t in study.trials]
    summary = {
        "trials": [{**_bench_names(t.params), "state": t.state.name, "val_mse": t.value, "epochs": t.user_attrs.get("epochs")}
                   for t in study.trials],
        "complete": states.count("COMPLETE"), "pruned": states.count("PRUNED"),
        "seconds": time.perf_counter() - started,
    }
    contexts = space.get("context_length", [seq_len])
    return min(objective.trained, key=lambda t: t.val_mse), summary, list(getattr(contexts, "choices", contexts))
