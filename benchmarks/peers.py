"""S4Forecaster with its defaults beside statsforecast and NeuralForecast on the forecasting panel.

Every model forecasts the same rolling windows: the test block of `s4ts.bench.panel` (the
last `n_windows` origins of each series, `step` apart, the last `horizon` steps before the
series' end). Each is fit once on the history before the first test cutoff and forecasts
every window from the observations before its cutoff, as `S4Forecaster.cross_validation`,
`NeuralForecast.cross_validation(refit=False)` and `StatsForecast.cross_validation(refit=False)`
do. Nothing is chosen on the test windows.

Contenders:
- `S4Forecaster(horizon=h, futr_exog=<the dataset's known covariates>)`, nothing else set;
- statsforecast: SeasonalNaive, AutoETS, AutoARIMA, AutoTheta (season = the panel's), and
  MSTL where the data has several seasons (`SEASONS`), 80% intervals, fit on the last
  --stats-history steps (3,000: their fits grow faster than the history), the series of a
  panel in parallel on every core (`n_jobs`), in a child process stopped with its workers
  after --stats-timeout seconds (a model stopped or failing ranks last there);
- NeuralForecast: NHITS, PatchTST, DLinear with their defaults but `max_steps` (--max-steps,
  fixed for all: 500, within the 100-1,000 of their documentation's examples; 1,000 in
  peers v1-v4), `input_size` (2 x horizon, as their examples do), the seed, and the dataset's
  known covariates where the model takes them (NHITS); training also stops at
  --neural-max-time seconds, and the steps trained are reported.

The peers need evenly sampled series without gaps: missing targets (pedestrian) are linearly
interpolated in their inputs, as a user would; every model is scored on the observed values.
Scores (`panel.score_backtest`): MASE against the in-sample seasonal-naive error up to each
cutoff, sMAPE, and for the probabilistic models (S4Forecaster's 10/50/90% quantiles,
statsforecast's mean and 80% interval) the scaled quantile loss at those three levels
(a three-point CRPS) and the coverage of the 80% band; fit + predict seconds. Then per
dataset the MASE rank, and overall the mean rank and the geometric mean of MASE / seasonal
naive MASE. The last line is JSON; with --out the tables and the full record are written
to DIR/peers.md and DIR/peers.json with the versions and the command.

  pip install 'torch==2.13.0' && pip install -e '.[peers,data]'
  S4TS_DATA=../shared/data/ETT .venv/bin/python benchmarks/peers.py --out benchmarks/results/peers_v1
  .venv/bin/python benchmarks/peers.py --quick        # smoke test: 2 small datasets, tiny budgets
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import multiprocessing
import os
import queue
import signal
import sys
import time
import warnings
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from s4ts.bench import panel
from s4ts.bench.versions import versions
from s4ts.forecasting import S4Forecaster

ID, TIME, TARGET, PRED = panel.ID, panel.TIME, panel.TARGET, panel.PRED
LEVEL = 80  # the interval every probabilistic model reports: quantiles 0.1 and 0.9
STATS = ("SeasonalNaive", "AutoETS", "AutoARIMA", "AutoTheta", "MSTL")
NEURAL = ("NHITS", "PatchTST", "DLinear")
REFERENCE = "SeasonalNaive"  # relative MASE is MASE / this model's MASE on the same windows
# Seasonal periods in steps, for MSTL where there is more than one: day and week.
SEASONS = {"vic_elec": (48, 336), "ETTh1": (24, 168), "ETTh2": (24, 168),
           "pedestrian": (24, 168), "bank_calls": (169, 845)}
QUICK_DATASETS = ("tourism", "aus_retail")


def peer_frame(frame: pd.DataFrame, spec: panel.PanelSpec) -> pd.DataFrame:
    """id, time, target and the known covariates, as float, missing targets interpolated
    within each series (the peers need gap-free series); a new frame."""
    out = frame[[ID, TIME, TARGET, *spec.futr_exog]].copy()
    for col in [TARGET, *spec.futr_exog]:
        out[col] = out[col].astype("float64")
    out[TARGET] = out.groupby(ID, sort=False)[TARGET].transform(
        lambda y: y.interpolate(limit_direction="both"))
    return out


def _as_panel_forecasts(cv: pd.DataFrame, name: str, truth: pd.DataFrame) -> pd.DataFrame:
    """A peer's cross-validation frame in the panel's layout (id, time, cutoff, y, y_pred and
    quantile columns), y the observed truth (NaN where the series had a gap)."""
    out = cv[[ID, TIME, "cutoff"]].copy()
    out[PRED] = cv[name].to_numpy(dtype="float64")
    lo, hi = f"{name}-lo-{LEVEL}", f"{name}-hi-{LEVEL}"
    if lo in cv.columns:
        low, high = (1 - LEVEL / 100) / 2, 1 - (1 - LEVEL / 100) / 2
        out[f"{TARGET}_q{low:g}"] = cv[lo].to_numpy(dtype="float64")
        out[f"{TARGET}_q0.5"] = out[PRED]  # the mean of a symmetric interval: its median
        out[f"{TARGET}_q{high:g}"] = cv[hi].to_numpy(dtype="float64")
    return out.merge(truth, on=[ID, TIME], how="left")


def _stats_model(name: str, spec: panel.PanelSpec):
    from statsforecast import models

    season = spec.season
    if name == "MSTL":
        return models.MSTL(season_length=list(SEASONS[spec.name]))
    return getattr(models, name)(season_length=season)


def _stats_backtest(name: str, spec: panel.PanelSpec, data: pd.DataFrame, history: int,
                    results) -> None:
    """One statsforecast model's backtest on the test windows, fit once before the first on
    the last `history` steps; the frame (or the error) goes into the `results` queue."""
    from statsforecast import StatsForecast

    os.setpgid(0, 0)  # its own process group: a timeout stops statsforecast's workers with it
    data = data.groupby(ID, sort=False).tail(history + spec.block)
    # statsforecast fits series in parallel; one series runs in one process either way
    n_jobs = min(os.cpu_count() or 1, data[ID].nunique())
    try:
        sf = StatsForecast(models=[_stats_model(name, spec)], freq=spec.freq, n_jobs=n_jobs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. ETS refusing seasons over 24, fitting without
            cv = sf.cross_validation(h=spec.horizon, df=data[[ID, TIME, TARGET]], level=[LEVEL],
                                     n_windows=spec.n_windows, step_size=spec.window_step, refit=False)
        results.put(("forecasts", cv))
    except Exception as err:  # noqa: BLE001 -- reported by the parent as this model's result
        results.put(("error", f"{type(err).__name__}: {err}"))


def run_stats(name: str, spec: panel.PanelSpec, data: pd.DataFrame, history: int,
              timeout: float) -> pd.DataFrame:
    """`_stats_backtest` in a child process stopped after `timeout` seconds (AutoARIMA's search
    at a season of 169 steps runs for hours); TimeoutError then."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    # not a daemon: statsforecast starts worker processes of its own (n_jobs)
    child = context.Process(target=_stats_backtest, args=(name, spec, data, history, results))
    child.start()
    try:
        kind, outcome = results.get(timeout=timeout)
    except queue.Empty:
        _kill_group(child.pid)
        raise TimeoutError(f"stopped after {timeout:g} s (--stats-timeout)") from None
    finally:
        child.join(timeout=10)
        if child.is_alive():
            _kill_group(child.pid)
            child.join()
    if kind == "error":
        raise RuntimeError(outcome)
    return outcome


def _kill_group(pid: int) -> None:
    """SIGKILL to the process group `pid` leads (a statsforecast child and its workers)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:  # killed before it made its group: the child alone
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_neural(name: str, spec: panel.PanelSpec, data: pd.DataFrame, args) -> tuple[pd.DataFrame, int]:
    """One NeuralForecast model's backtest on the test windows, trained once before the first
    for --max-steps steps or --neural-max-time seconds, whichever ends first; with the number
    of optimizer steps it trained."""
    import pytorch_lightning as pl
    from neuralforecast import NeuralForecast, models

    trained = {"steps": -1}

    class CountSteps(pl.Callback):  # NeuralForecast fits a copy of the model: report through a closure
        def on_train_end(self, trainer, module):
            trained["steps"] = int(trainer.global_step)

    kwargs = {"h": spec.horizon, "input_size": 2 * spec.horizon, "max_steps": args.max_steps,
              "random_seed": args.seed, "max_time": timedelta(seconds=args.neural_max_time),
              "accelerator": "cpu", "logger": False, "callbacks": [CountSteps()],
              "enable_progress_bar": False, "enable_model_summary": False}
    exog = list(spec.futr_exog)
    if exog and name == "NHITS":  # PatchTST and DLinear take no exogenous inputs
        kwargs["futr_exog_list"] = exog
    else:
        data = data[[ID, TIME, TARGET]]
    nf = NeuralForecast(models=[getattr(models, name)(**kwargs)], freq=spec.freq)
    cv = nf.cross_validation(df=data, n_windows=spec.n_windows, step_size=spec.window_step, refit=False)
    return cv, trained["steps"]


def run_s4(spec: panel.PanelSpec, frame: pd.DataFrame, seed: int, quick: bool) -> pd.DataFrame:
    """S4Forecaster with its defaults (plus the known covariates) on the test windows."""
    budget = {"max_epochs": 1, "batches_per_epoch": 2, "d_model": 8, "n_layers": 1} if quick else {}
    model = S4Forecaster(horizon=spec.horizon, futr_exog=list(spec.futr_exog),
                         random_state=seed, **budget)
    return model.cross_validation(frame, n_windows=spec.n_windows, step=spec.window_step)


def _windows(forecasts: pd.DataFrame) -> set:
    return set(zip(forecasts[ID], forecasts[TIME], forecasts["cutoff"]))


def _shape(spec: panel.PanelSpec, frame: pd.DataFrame) -> dict:
    """What makes two runs' results on a dataset comparable."""
    return {"dataset": spec.name, "n_series": int(frame[ID].nunique()), "horizon": spec.horizon,
            "season": spec.season, "n_windows": spec.n_windows, "step": spec.window_step}


def run_dataset(spec: panel.PanelSpec, models: list[str], args, reused: dict) -> dict:
    """Every model on one dataset's test windows: scores and seconds (or the error); the
    models of `reused` ({"shape", "models": name -> result} of an earlier run) are taken as
    they are."""
    frame = panel.split_for(spec, panel.subsample(spec.loader(), args.max_series), "test")
    windows = _windows(panel.seasonal_naive_backtest(frame, spec))
    data, truth = peer_frame(frame, spec), frame[[ID, TIME, TARGET]]
    if reused and reused["shape"] != _shape(spec, frame):
        raise ValueError(f"--reuse: the earlier run's {spec.name} windows {reused['shape']} differ "
                         f"from this run's {_shape(spec, frame)}; rerun every model")
    results = {name: {**result, "reused": True} for name, result in reused.get("models", {}).items()}
    for name in models:
        if name == "MSTL" and spec.name not in SEASONS:
            continue
        start, extra = time.perf_counter(), {}
        try:
            if name == "S4Forecaster":
                forecasts = run_s4(spec, frame, args.seed, args.quick)
            elif name in STATS:
                cv = run_stats(name, spec, data, args.stats_history, args.stats_timeout)
                forecasts = _as_panel_forecasts(cv, name, truth)
            else:
                cv, extra["steps"] = run_neural(name, spec, data, args)
                forecasts = _as_panel_forecasts(cv, name, truth)
        except Exception as err:  # noqa: BLE001 -- a model failing on a dataset is a result
            results[name] = {"error": f"{type(err).__name__}: {err}"}
            print(f"{spec.name} {name}: failed: {results[name]['error']}", file=sys.stderr, flush=True)
            continue
        seconds = time.perf_counter() - start
        differ = _windows(forecasts) ^ windows
        if differ:
            raise RuntimeError(f"{spec.name} {name}: the forecast windows differ from the panel's "
                               f"in {len(differ)} rows (e.g. {min(differ, key=str)})")
        results[name] = {"seconds": seconds, **extra, **panel.score_backtest(forecasts, frame, spec)}
        print(f"{spec.name} {name}: MASE {results[name]['mase']:.4f} in {seconds:.1f} s",
              file=sys.stderr, flush=True)
    _rank(results)
    return {**_shape(spec, frame), "models": results}


def reused_results(path: Path | None, models: list[str]) -> dict[str, dict]:
    """dataset -> {model -> result} of an earlier run's peers.json, without the models run now
    (their ranks are recomputed with this run's models)."""
    if path is None:
        return {}
    try:
        earlier = json.loads(path.read_text())
        return {r["dataset"]: {"shape": {k: v for k, v in r.items() if k != "models"},
                               "models": {n: {k: v for k, v in m.items() if k not in ("rank", "rel_mase", "reused")}
                                          for n, m in r["models"].items() if n not in models}}
                for r in earlier["datasets"]}
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"--reuse {path}: not a peers.json of this benchmark ({type(err).__name__}: "
                         f"{err})") from None


def _rank(results: dict) -> None:
    """Add each model's MASE rank (1 = best; ties share the mean rank; a model that failed or
    ran out of time shares the last ranks) and its MASE relative to the reference."""
    scored = {n: r["mase"] for n, r in results.items() if math.isfinite(r.get("mase", math.nan))}
    ranks = pd.Series({n: scored.get(n, math.inf) for n in results}, dtype="float64")
    ranks = ranks.rank(method="average")
    for name in results.keys() - scored.keys():
        results[name]["rank"] = float(ranks[name])
    ref = scored.get(REFERENCE)
    for name, value in scored.items():
        results[name]["rank"] = float(ranks[name])
        results[name]["rel_mase"] = value / ref if ref else math.nan


def _lowest_crps(record: dict) -> str | None:
    """The probabilistic model with the lowest scaled CRPS on one dataset."""
    crps = {n: r["scaled_crps"] for n, r in record["models"].items()
            if math.isfinite(r.get("scaled_crps", math.nan))}
    return min(crps, key=crps.get) if crps else None


def targets(records: list[dict], summary: dict[str, dict], model: str = "S4Forecaster") -> dict:
    """The issue's targets for `model`: best mean rank, below seasonal naive everywhere, lowest
    CRPS on at least half the datasets, 80% coverage in [0.72, 0.88] everywhere, and fit +
    predict time at most the slowest NeuralForecast model's on every dataset."""
    if model not in summary:
        return {}
    runs = [(r["dataset"], r["models"][model]) for r in records if model in r["models"]]
    ranks = {n: s["mean_rank"] for n, s in summary.items() if s["mean_rank"] is not None}
    slowest = {r["dataset"]: max((m["seconds"] for n, m in r["models"].items()
                                  if n in NEURAL and "seconds" in m), default=math.nan)
               for r in records}
    return {
        "best_mean_rank": min(ranks, key=ranks.get) == model,
        "below_naive_on": [d for d, m in runs if m.get("rel_mase", math.inf) < 1],
        "lowest_crps_on": [r["dataset"] for r in records if _lowest_crps(r) == model],
        "coverage_in_range_on": [d for d, m in runs if 0.72 <= m.get("coverage_80", -1) <= 0.88],
        "within_slowest_neural_time_on": [d for d, m in runs
                                          if m.get("seconds", math.inf) <= slowest[d]],
        "n_datasets": len(runs),
    }


def summarize(records: list[dict], models: list[str]) -> dict[str, dict]:
    """Per model over the datasets: mean MASE rank (failures ranked last), geometric mean
    relative MASE and the datasets it beats seasonal naive on (where it ran), failures."""
    out = {}
    for name in models:
        ran = [r for r in records if name in r["models"]]
        ok = [r["models"][name] for r in ran if "error" not in r["models"][name]]
        rel = [m["rel_mase"] for m in ok if math.isfinite(m["rel_mase"]) and m["rel_mase"] > 0]
        out[name] = {
            "mean_rank": float(np.mean([r["models"][name]["rank"] for r in ran])) if ran else None,
            "geomean_rel_mase": float(np.exp(np.mean(np.log(rel)))) if rel else None,
            "beats_naive": int(sum(v < 1 for v in rel)),
            "n_datasets": len(ok),
            "failed": [r["dataset"] for r in ran if "error" in r["models"][name]],
            "lowest_crps": int(sum(_lowest_crps(r) == name for r in ran)),
            "seconds": float(sum(m["seconds"] for m in ok)),
        }
    return out


def _num(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.{digits}f}"


def dataset_table(record: dict) -> str:
    title = (f"### {record['dataset']}: {record['n_series']} series, {record['n_windows']} windows "
             f"of {record['horizon']} every {record['step']}, season {record['season']}")
    head = ["model", "MASE", "rank", "MASE / sNaive", "sMAPE", "scaled CRPS (10/50/90)",
            "coverage 80%", "fit+predict s"]
    lines = [title, "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in sorted(record["models"].items(), key=lambda kv: kv[1].get("rank", math.inf)):
        if "error" in r:
            lines.append(f"| {name} | failed: {r['error'][:120]} | {_num(r['rank'], 1)} |"
                         + " |" * (len(head) - 3))
            continue
        lines.append(f"| {name} | {_num(r['mase'])} | {_num(r['rank'], 1)} | {_num(r['rel_mase'])} | "
                     f"{_num(r['smape'], 2)} | {_num(r.get('scaled_crps'))} | "
                     f"{_num(r.get('coverage_80'))} | {_num(r['seconds'], 1)}{_steps(r)} |")
    return "\n".join(lines)


def _steps(result: dict) -> str:
    """A NeuralForecast model's training steps, shown after its seconds (runs before they
    were recorded show none)."""
    return f" ({result['steps']:,} steps)" if "steps" in result else ""


def summary_table(summary: dict[str, dict]) -> str:
    head = ["model", "mean MASE rank", "geo-mean MASE / sNaive", "beats sNaive", "lowest CRPS",
            "datasets", "failed on", "total s"]
    lines = ["### overall", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, s in sorted(summary.items(), key=lambda kv: kv[1]["mean_rank"] or math.inf):
        lines.append(f"| {name} | {_num(s['mean_rank'], 2)} | {_num(s['geomean_rel_mase'])} | "
                     f"{s['beats_naive']} | {s['lowest_crps']} | {s['n_datasets']} | "
                     f"{', '.join(s['failed']) or '-'} | "
                     f"{_num(s['seconds'], 0)} |")
    return "\n".join(lines)


def package_versions() -> dict[str, str]:
    return versions(("s4ts", "torch", "statsforecast", "neuralforecast", "pandas", "numpy"))


def _quiet_peers() -> None:
    """Lightning and NeuralForecast log every fit at INFO; keep the benchmark's own lines."""
    for name in ("lightning", "lightning.pytorch", "pytorch_lightning", "neuralforecast"):
        logging.getLogger(name).setLevel(logging.ERROR)
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=None,
                        help=f"panel datasets (default all: {' '.join(panel.PANEL)})")
    parser.add_argument("--models", nargs="+", default=["S4Forecaster", *STATS, *NEURAL],
                        help="models to run (default all)")
    parser.add_argument("--max-steps", type=int, default=500,
                        help="NeuralForecast training steps (their examples use 100-1,000; NHITS "
                             "defaults to 1,000, PatchTST and DLinear to 5,000)")
    parser.add_argument("--neural-max-time", type=float, default=180,
                        help="seconds of training a NeuralForecast model gets at most (PatchTST "
                             "takes 3.7 s a step on bank_calls)")
    parser.add_argument("--reuse", type=Path, default=None, metavar="PEERS_JSON",
                        help="take the models not in --models from this earlier run's peers.json "
                             "(same datasets and windows), e.g. to rerun S4Forecaster alone")
    parser.add_argument("--stats-timeout", type=float, default=200,
                        help="seconds one statsforecast model may take on one dataset; then it is "
                             "stopped and ranked last there (AutoARIMA's slowest finish: 184 s in "
                             "v1, 143 s in v5, on us_gasoline; where it stops it did not finish in "
                             "300 s in v1 either)")
    parser.add_argument("--stats-history", type=int, default=3000,
                        help="steps before the first test cutoff the statsforecast models are fit "
                             "on (AutoARIMA takes over 200 s on ETTh1's 17,000 hours, 22 s on the "
                             "last 3,000)")
    parser.add_argument("--max-series", type=int, default=None,
                        help="at most N series per dataset, evenly spaced over the sorted ids")
    parser.add_argument("--seed", type=int, default=0, help="seed of every neural model")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: {', '.join(QUICK_DATASETS)}, 3 series, 5 NeuralForecast "
                             "steps, a one-layer S4 trained for 2 batches, statsforecast models "
                             "stopped after 60 s")
    parser.add_argument("--out", type=Path, default=None, help="folder for peers.md and peers.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.datasets = args.datasets or list(QUICK_DATASETS)
        args.max_series, args.max_steps = args.max_series or 3, 5
        args.stats_timeout = min(args.stats_timeout, 60)
    unknown = sorted(set(args.models) - {"S4Forecaster", *STATS, *NEURAL})
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from S4Forecaster {' '.join(STATS + NEURAL)}")
    for flag in ("max_steps", "max_series", "stats_timeout", "stats_history", "neural_max_time"):
        value = getattr(args, flag)
        if value is not None and not value > 0:
            parser.error(f"--{flag.replace('_', '-')} must be positive, got {value}")
    try:
        specs = [panel.get_spec(name) for name in args.datasets or panel.PANEL]
    except ValueError as err:
        parser.error(str(err))
    try:
        reused = reused_results(args.reuse, args.models)
    except ValueError as err:
        parser.error(str(err))
    _quiet_peers()

    started, records = time.perf_counter(), []
    for spec in specs:
        try:
            records.append(run_dataset(spec, args.models, args, reused.get(spec.name, {})))
        except (FileNotFoundError, ImportError, ValueError) as err:
            parser.error(f"{spec.name}: {err}")  # missing data or peers, or --reuse mismatched
        print(dataset_table(records[-1]) + "\n", flush=True)
    summary = summarize(records, list(dict.fromkeys(
        [*args.models, *(n for r in records for n in r["models"])])))
    print(summary_table(summary))
    total = time.perf_counter() - started
    final = {"quick": args.quick, "seconds": round(total, 1), "max_steps": args.max_steps,
             "reused": str(args.reuse) if args.reuse else None,
             "summary": {n: {k: s[k] for k in ("mean_rank", "geomean_rel_mase", "beats_naive")}
                         for n, s in summary.items()},
             "s4_targets": targets(records, summary)}
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        tables = [dataset_table(r) for r in records] + [summary_table(summary)]
        command = "benchmarks/peers.py " + " ".join(argv if argv is not None else sys.argv[1:])
        (args.out / "peers.md").write_text(f"`{command}`\n\n" + "\n\n".join(tables) + "\n")
        full = {**final, "command": command, "versions": package_versions(), "summary": summary,
                "datasets": records}
        (args.out / "peers.json").write_text(json.dumps(full, indent=2, default=str) + "\n")
    print(json.dumps(final))
    return 0


if __name__ == "__main__":
    sys.exit(main())
