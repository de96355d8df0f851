"""One cell of the Informer tables: S4Forecaster chosen on validation, the linear baseline, the
published figures."""

from __future__ import annotations

import logging
import time

from s4ts.bench.informer.baseline import NORMS, LinearForecaster, evaluate
from s4ts.bench.informer.forecaster import Trial, point_forecasts, scores, train_s4
from s4ts.bench.informer.protocol import ProtocolData, load_published, published_value
from s4ts.bench.informer.tuning import choose

__all__ = ["fit_linear_baseline", "run_cell"]

logger = logging.getLogger(__name__)


def _fit_linear(data: ProtocolData, seq_len: int, horizon: int, norm: str) -> Trial:
    """The linear baseline at one context length and normalisation, scored on validation."""
    train, val, _ = data.windows(seq_len, horizon)
    model = LinearForecaster(seq_len, horizon, norm=norm).fit(train)
    return Trial({"seq_len": seq_len, "norm": norm}, seq_len, model, evaluate(model, val)[0])


def fit_linear_baseline(data: ProtocolData, seq_lens: list[int], horizon: int) -> Trial:
    """The linear baseline with the context length and normalisation that score best on validation."""
    return min((_fit_linear(data, n, horizon, norm) for n in seq_lens for norm in NORMS),
               key=lambda t: t.val_mse)


def run_cell(
    data: ProtocolData, features: str, seq_len: int, horizon: int, params: dict,
    baseline: bool = True, search: dict[str, list] | None = None, ensemble: int = 1, tune: int = 0,
    val_stride: int = 1,
) -> dict:
    """Train and test S4Forecaster (and, with `baseline`, the linear baseline).

    The model is chosen on validation (`tuning.choose`): `tune` trials sampled by TPE with
    pruning (over the `search` values, or the bench space), or every combination of `search`;
    the best is retrained with `ensemble - 1` more seeds (`random_state` + k) and the mean of
    the members' point forecasts is tested. Test data never take part in a choice. The
    baseline is chosen on validation too: its normalisation and the same context lengths
    as were searched, so a longer context does not favour S4 alone. Models are scored on every
    `val_stride`-th validation window (1: all), the baseline on all of them.
    """
    record: dict = {"dataset": data.name, "features": features, "horizon": horizon}
    # CPU seconds next to wall seconds: on a shared machine the wall time overstates the cost.
    wall, cpu = time.perf_counter(), time.process_time()
    seed = params.get("random_state", 0)
    best, study, contexts = choose(data, seq_len, horizon, params, search or {}, tune, seed, val_stride)
    members = [best] + [
        train_s4(data, seq_len, horizon, {**params, "random_state": seed + k}, best.overrides, val_stride)
        for k in range(1, ensemble)
    ]
    test = [point_forecasts(m.model, data, "test") for m in members]
    record["seq_len"], record["test_windows"] = best.seq_len, data.n_origins("test", horizon)
    record["ours_mse"], record["ours_mae"] = scores([p for p, _ in test], test[0][1])
    record["ours_val_mse"] = scores([m.val_preds for m in members], best.val_truth)[0]
    record["val_stride"] = val_stride
    record["ours_seconds"] = time.perf_counter() - wall
    record["ours_cpu_seconds"] = time.process_time() - cpu
    record["ours_epochs"] = [m.model.n_epochs_ for m in members]
    record["ours_best_epochs"] = [m.model.best_epoch_ for m in members]  # 0: the start was kept
    record["selected"] = best.overrides
    record["ensemble"] = ensemble
    if len(study["trials"]) > 1:
        record["search"] = study["trials"]
        record["study"] = {key: study[key] for key in ("complete", "pruned", "seconds")}
    if baseline:
        wall = time.perf_counter()
        linear = fit_linear_baseline(data, contexts, horizon)
        test_windows = data.windows(linear.seq_len, horizon)[2]
        record["linear_mse"], record["linear_mae"] = evaluate(linear.model, test_windows)
        record["linear_seq_len"], record["linear_norm"] = linear.seq_len, linear.overrides["norm"]
        record["linear_seconds"] = time.perf_counter() - wall
    published = load_published()
    for model_name, key in (("S4", "s4_paper"), ("Informer", "informer")):
        mse, mae = published_value(published, data.name, features, horizon, model_name)
        record[f"{key}_mse"], record[f"{key}_mae"] = mse, mae
    logger.info("%s %s H=%d: %s", data.name, features, horizon, record)
    return record
