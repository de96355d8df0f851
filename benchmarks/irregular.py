"""Irregular sampling: S4Forecaster at the observed times against what users of other libraries do instead.

Settings (`s4ts.bench.irregular`): vic_elec and ETTh1 OT read at Poisson-random times (mean
gap one native step, values interpolated from the native series), complete and with 30% and
60% of the observations removed in bursts (outages, mean half a day); pedestrian counts at
their own observed hours (gaps of hours to weeks). Each of the last 14 midnights asks for
the values at the next day's observation times, from the observations before it.

Contenders, each fit once before the first cutoff, scored at the same asked times:
- S4 irregular: `S4Forecaster(horizon=steps per day, time_grid="irregular")` on the
  observations as they are; forecasts at the asked times (X_future).
- S4 binned: `S4Forecaster(horizon=steps per day, freq=native step)` on the observations
  averaged into native-step bins (empty bins missing, masked), its bin forecasts
  interpolated to the asked times: what a user does without per-step Δ.
- S4 interpolated, AutoETS (statsforecast) and NHITS (NeuralForecast): the same bins with
  the empty ones linearly interpolated (within each history only), forecasts interpolated
  likewise.
- S4 regular, complete: the reference for the outage target, `S4Forecaster(horizon)` on
  the native regular series, scored at the native steps of the same days.

Scores: MAE and MASE (in-sample seasonal-naive scale of the native series) at the asked
times, scaled quantile loss at 10/50/90% ("CRPS") and 80% coverage for the models with
quantiles, fit + predict seconds. One table per setting, then the targets, last line JSON.

  S4TS_DATA=../shared/data/ETT .venv/bin/python benchmarks/irregular.py --out benchmarks/results/irregular_v1
  .venv/bin/python benchmarks/irregular.py --quick     # smoke test: tiny budgets, 2 windows
  ... --split validation    # the 14 days before the test block: compare settings here, not on the test days
  ... --irregular-set val_size=720    # a probe: S4Forecaster arguments for the irregular contender
  ... --binned-set context_length=96    # the same for the S4 binned and S4 interpolated contenders
  ... --forecasts --out DIR    # also each contender's forecasts at the asked times, as CSV

Each setting's table is followed by MAE and coverage by the wait: hours from the last
observation before a cutoff to the asked time (long after an outage).
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import sys
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from s4ts import S4Forecaster
from s4ts.bench import irregular as proto
from s4ts.bench.overrides import parse_config
from s4ts.bench.versions import versions

ID, TIME, TARGET = proto.ID, proto.TIME, proto.TARGET
CONTENDERS = ("S4 irregular", "S4 binned", "S4 interpolated", "AutoETS", "NHITS")
REFERENCE = "S4 regular, complete"
BINNED_S4 = ("S4 binned", "S4 interpolated")  # the contenders --binned-set applies to
# Contexts passed to predict: enough observations for any contender's context.
HISTORY_DAYS = 14
QUICK = {"max_epochs": 1, "batches_per_epoch": 2, "d_model": 8, "n_layers": 1}


def _tagged(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """Rows of window k under ids "<id>@k", so every window's history is one series of a call."""
    return frame.assign(**{ID: frame[ID].astype(str) + f"@{k}"})


def _histories(frame: pd.DataFrame, cuts: list[pd.Timestamp]) -> pd.DataFrame:
    """The last HISTORY_DAYS of observations at or before each cutoff, one tagged series each."""
    return pd.concat([_tagged(frame[(frame[TIME] <= c) & (frame[TIME] > c - proto.DAY * HISTORY_DAYS)], k)
                      for k, c in enumerate(cuts)], ignore_index=True)


def _untag(forecasts: pd.DataFrame, cuts: list[pd.Timestamp], ids: dict) -> pd.DataFrame:
    """Back from "<id>@k" to the series id and a cutoff column."""
    parts = forecasts[ID].str.rsplit("@", n=1)
    return forecasts.assign(**{ID: parts.str[0].map(ids), "cutoff": [cuts[int(p[1])] for p in parts]})


def _truth(asked: pd.DataFrame, forecasts: pd.DataFrame) -> pd.DataFrame:
    out = asked.merge(forecasts.drop(columns=[TARGET], errors="ignore"), on=[ID, TIME, "cutoff"], how="left")
    if out.filter(like="y_").isna().any().any():
        raise RuntimeError("a contender left asked times without a forecast")
    return out


def s4_irregular(frame, cuts, asked, spec, seed, quick, settings=None):
    """`settings`: S4Forecaster arguments of a probe (--irregular-set), over the defaults."""
    model = S4Forecaster(horizon=spec.steps_per_day, time_grid="irregular", random_state=seed,
                         verbose=False, **(QUICK if quick else {}), **(settings or {}))
    model.fit(frame[frame[TIME] <= cuts[0]])
    ids = {str(u): u for u in frame[ID].unique()}
    futures = pd.concat([_tagged(asked[asked["cutoff"] == c][[ID, TIME]], k) for k, c in enumerate(cuts)])
    # Only the (series, window) pairs with readings to forecast: an outage can empty a whole day.
    histories = _histories(frame, cuts)
    forecasts = model.predict(histories[histories[ID].isin(set(futures[ID]))], X_future=futures)
    return _truth(asked, _untag(forecasts, cuts, ids))


def _binned_histories(frame, cuts, spec, fill: bool) -> tuple[pd.DataFrame, list]:
    """Per window the bins before its cutoff (tagged), and each series' last observation."""
    parts, last = [], []
    for k, cut in enumerate(cuts):
        history = frame[(frame[TIME] <= cut) & (frame[TIME] > cut - proto.DAY * HISTORY_DAYS)]
        bins = proto.bin_to_grid(history, spec.step, end=cut)
        if fill:
            bins[TARGET] = bins.groupby(ID)[TARGET].transform(
                lambda y: y.interpolate(limit_direction="both"))
        parts.append(_tagged(bins, k))
        for uid, rows in history.groupby(ID):
            last.append((str(uid), k, rows[TIME].iloc[-1], rows[TARGET].iloc[-1]))
    return pd.concat(parts, ignore_index=True), last


def _to_asked(grid_forecasts: pd.DataFrame, last: list, asked: pd.DataFrame, cuts, spec,
              columns: list[str]) -> pd.DataFrame:
    """Bin forecasts (tagged ids) read at each window's asked times."""
    out = []
    by_id = dict(tuple(grid_forecasts.groupby(ID)))
    for uid, k, last_time, last_value in last:
        rows = asked[(asked[ID].astype(str) == uid) & (asked["cutoff"] == cuts[k])]
        if rows.empty:
            continue
        grid = by_id[f"{uid}@{k}"].sort_values(TIME)
        times = pd.DatetimeIndex(rows[TIME])
        block = rows[[ID, TIME, "cutoff", TARGET]].copy()
        for column in columns:
            block[column] = proto.grid_to_times(pd.DatetimeIndex(grid[TIME]), grid[column].to_numpy(float),
                                                spec.step, last_time, last_value, times)
        out.append(block)
    return pd.concat(out, ignore_index=True)


def s4_binned(frame, cuts, asked, spec, seed, quick, fill=False, settings=None):
    """S4Forecaster on the bins: empty ones masked, or (`fill`) linearly interpolated as for
    AutoETS and NHITS. `settings`: S4Forecaster arguments of a probe (--binned-set)."""
    train = proto.bin_to_grid(frame[frame[TIME] <= cuts[0]], spec.step, end=cuts[0])
    if fill:
        train[TARGET] = train.groupby(ID)[TARGET].transform(lambda y: y.interpolate(limit_direction="both"))
    model = S4Forecaster(horizon=spec.steps_per_day, freq=_alias(spec.step), random_state=seed, verbose=False,
                         **(QUICK if quick else {}), **(settings or {}))
    model.fit(train)
    histories, last = _binned_histories(frame, cuts, spec, fill=fill)
    forecasts = model.predict(histories)
    columns = ["y_pred", *[f"y_q{q:g}" for q in proto.LEVELS]]
    return _to_asked(forecasts, last, asked, cuts, spec, columns)


def auto_ets(frame, cuts, asked, spec, seed, quick):
    from statsforecast.models import AutoETS

    train = proto.bin_to_grid(frame[frame[TIME] <= cuts[0]], spec.step, end=cuts[0])
    histories, last = _binned_histories(frame, cuts, spec, fill=True)
    rows = []
    for uid, series in train.groupby(ID):
        y = series[TARGET].interpolate(limit_direction="both").to_numpy(float)[-3000:]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # seasons over 24 steps: ETS fits without season
            model = AutoETS(season_length=spec.season).fit(y)
            for k in range(len(cuts)):
                history = histories[histories[ID] == f"{uid}@{k}"]
                fc = model.forward(y=history[TARGET].to_numpy(float), h=spec.steps_per_day, level=[80])
                times = history[TIME].iloc[-1] + spec.step * np.arange(1, spec.steps_per_day + 1)
                rows.append(pd.DataFrame({ID: f"{uid}@{k}", TIME: times, "y_pred": fc["mean"],
                                          "y_q0.1": fc["lo-80"], "y_q0.5": fc["mean"], "y_q0.9": fc["hi-80"]}))
    columns = ["y_pred", "y_q0.1", "y_q0.5", "y_q0.9"]
    return _to_asked(pd.concat(rows), last, asked, cuts, spec, columns)


def nhits(frame, cuts, asked, spec, seed, quick):
    from neuralforecast import NeuralForecast
    from neuralforecast.models import NHITS

    train = proto.bin_to_grid(frame[frame[TIME] <= cuts[0]], spec.step, end=cuts[0])
    train[TARGET] = train.groupby(ID)[TARGET].transform(lambda y: y.interpolate(limit_direction="both"))
    h = spec.steps_per_day
    model = NHITS(h=h, input_size=2 * h, max_steps=5 if quick else 1000, random_seed=seed,
                  max_time=pd.Timedelta(seconds=180).to_pytimedelta(), accelerator="cpu", logger=False,
                  enable_progress_bar=False, enable_model_summary=False)
    nf = NeuralForecast(models=[model], freq=_alias(spec.step))
    nf.fit(df=_naive(train))
    histories, last = _binned_histories(frame, cuts, spec, fill=True)
    forecasts = nf.predict(df=_naive(histories)).rename(columns={"NHITS": "y_pred"})
    tz = frame[TIME].dt.tz
    forecasts[TIME] = forecasts[TIME].dt.tz_localize(tz) if tz is not None else forecasts[TIME]
    return _to_asked(forecasts, last, asked, cuts, spec, ["y_pred"])


def _alias(step: pd.Timedelta) -> str:
    """A pandas alias of a step ("30min", "h")."""
    return to_offset(step).freqstr


def _naive(frame: pd.DataFrame) -> pd.DataFrame:
    """NeuralForecast reads time-zone-naive timestamps."""
    return frame.assign(**{TIME: frame[TIME].dt.tz_localize(None)}) if frame[TIME].dt.tz else frame


def s4_complete(native, cuts, spec, seed, quick):
    """The reference: S4Forecaster on the native regular series, scored at its native steps."""
    model = S4Forecaster(horizon=spec.steps_per_day, random_state=seed, verbose=False,
                         **(QUICK if quick else {}))
    model.fit(native[native[TIME] <= cuts[0]])
    ids = {str(u): u for u in native[ID].unique()}
    forecasts = _untag(model.predict(_histories(native, cuts)), cuts, ids)
    asked = proto.asked_windows(native, cuts)
    return _truth(asked, forecasts)


RUNNERS = {"S4 irregular": s4_irregular, "S4 binned": s4_binned, "S4 interpolated": partial(s4_binned, fill=True),
           "AutoETS": auto_ets, "NHITS": nhits}


def run_setting(spec, native, removed, args, scales) -> dict:
    frame = proto.make_setting(spec, native, removed, args.seed)
    cuts = proto.cutoffs(spec, native)[-args.windows:]
    asked = proto.asked_windows(frame, cuts)
    record = {"dataset": spec.name, "removed": removed, "observations": len(frame),
              "asked": len(asked), "models": {}}
    for name in args.models:
        started = time.perf_counter()
        try:
            settings = args.irregular_set if name == "S4 irregular" else args.binned_set if name in BINNED_S4 else {}
            probe = {"settings": settings} if settings else {}
            forecasts = RUNNERS[name](frame, cuts, asked, spec, args.seed, args.quick, **probe)
        except ImportError as err:
            record["models"][name] = {"error": f"{type(err).__name__}: {err}"}
            continue
        seconds = time.perf_counter() - started
        record["models"][name] = {**proto.score(forecasts, scales), "seconds": round(seconds, 1),
                                  "by_wait": proto.score_by_wait(forecasts, frame)}
        if args.forecasts:
            args.out.mkdir(parents=True, exist_ok=True)
            slug = f"{spec.name}_{removed:.0%}_{name}".replace(" ", "_").replace("%", "pct")
            forecasts.to_csv(args.out / f"forecasts_{slug}.csv", index=False)
        print(f"{spec.name} removed {removed:.0%} {name}: MAE {record['models'][name]['mae']:.4g} "
              f"in {seconds:.0f} s", file=sys.stderr, flush=True)
    return record


def table(record: dict) -> str:
    title = (f"### {record['dataset']}, {record['removed']:.0%} removed: {record['observations']} "
             f"observations, {record['asked']} asked")
    lines = [title, "", "| model | MAE | MASE | CRPS | coverage 80% | s |", "|---|---|---|---|---|---|"]
    for name, r in record["models"].items():
        if "error" in r:
            lines.append(f"| {name} | {r['error']} | | | | |")
            continue
        crps = f"{r['crps']:.4f}" if "crps" in r else "-"
        cov = f"{r['coverage']:.3f}" if "coverage" in r else "-"
        lines.append(f"| {name} | {r['mae']:.4g} | {r['mase']:.4f} | {crps} | {cov} | {r['seconds']:.0f} |")
    return "\n".join(lines) + "\n\n" + wait_table(record)


def wait_table(record: dict) -> str:
    """MAE (and 80% coverage) by the hours from the last observation before a cutoff to the asked time."""
    scored = {name: r["by_wait"] for name, r in record["models"].items() if "by_wait" in r}
    groups = list(dict.fromkeys(g["hours"] for by in scored.values() for g in by))
    lines = ["| hours since the last observation | asked | " + " | ".join(scored) + " |",
             "|---|---|" + "---|" * len(scored)]
    for hours in groups:
        cells, asked = [], ""
        for by in scored.values():
            group = next((g for g in by if g["hours"] == hours), None)
            asked = asked or (str(group["n"]) if group else "")
            cells.append("" if group is None else f"{group['mae']:.4g}"
                         + (f" ({group['coverage']:.2f})" if "coverage" in group else ""))
        lines.append(f"| {hours} | {asked} | " + " | ".join(cells) + " |")
    return "MAE by wait (80% coverage in brackets):\n\n" + "\n".join(lines)


def targets(records: list[dict], references: dict) -> dict:
    """Lowest MAE in every resampled setting; at 60% removal within 15% of the complete reference."""
    lowest, within = {}, {}
    for r in records:
        scored = {n: m["mae"] for n, m in r["models"].items() if "mae" in m}
        if r["dataset"] == "pedestrian" or "S4 irregular" not in scored:
            continue
        key = f"{r['dataset']} {r['removed']:.0%}"
        lowest[key] = min(scored, key=scored.get) == "S4 irregular"
        if r["removed"] == 0.6 and r["dataset"] in references:
            within[r["dataset"]] = scored["S4 irregular"] / references[r["dataset"]]["mae"]
    return {"lowest_mae": lowest, "lowest_everywhere": all(lowest.values()) if lowest else None,
            "outage60_over_complete": within,
            "outage60_within_15pct": all(v <= 1.15 for v in within.values()) if within else None}


def _probe_settings(parser: argparse.ArgumentParser, option: str, text: str, fixed: set[str]) -> dict:
    """S4Forecaster arguments from `option`'s "key=value,..."; unknown names and the ones the
    contenders set themselves are usage errors."""
    try:
        settings = parse_config("probe:" + text, set(inspect.signature(S4Forecaster).parameters))[1]
    except ValueError as err:
        parser.error(str(err).replace("--config probe", option))
    taken = sorted(fixed & set(settings))
    if taken:
        parser.error(f"{option}: {taken} are set by the contender itself")
    return settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(proto.SPECS), choices=list(proto.SPECS))
    parser.add_argument("--removed", nargs="+", type=float, default=[0.0, 0.3, 0.6],
                        help="shares of observations removed in bursts (resampled datasets)")
    parser.add_argument("--models", nargs="+", default=list(CONTENDERS), choices=list(CONTENDERS))
    parser.add_argument("--windows", type=int, default=14, help="forecast origins (last midnights)")
    parser.add_argument("--split", choices=("test", "validation"), default="test",
                        help="test: the last --windows midnights; validation: the --windows midnights "
                             "before them, the data from the test block on dropped (to choose settings by)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smoke test: tiny budgets, 2 windows")
    parser.add_argument("--irregular-set", default="", metavar="key=value,...",
                        help="S4Forecaster arguments for the S4 irregular contender (a probe of a setting; "
                             "recorded in the JSON), e.g. val_size=720")
    parser.add_argument("--binned-set", default="", metavar="key=value,...",
                        help="S4Forecaster arguments for the S4 binned and S4 interpolated contenders, "
                             "e.g. context_length=96 (a minute a probe where the irregular fit takes many)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--forecasts", action="store_true",
                        help="also write every contender's forecasts at the asked times to --out (CSV)")
    args = parser.parse_args(argv)
    if args.forecasts and args.out is None:
        parser.error("--forecasts writes into --out: give --out DIR")
    args.irregular_set = _probe_settings(parser, "--irregular-set", args.irregular_set, {"time_grid", "verbose"})
    args.binned_set = _probe_settings(parser, "--binned-set", args.binned_set, {"freq", "verbose"})
    if args.quick:
        args.windows = min(args.windows, 2)
    if not 1 <= args.windows <= 14:
        parser.error(f"--windows must be 1..14, got {args.windows}")
    bad = [r for r in args.removed if not 0 <= r < 1]
    if bad:
        parser.error(f"--removed shares must be in [0, 1), got {bad}")
    logging.getLogger("lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    started, records, references = time.perf_counter(), [], {}
    for name in args.datasets:
        spec = proto.SPECS[name]
        try:
            native = spec.loader()
        except (FileNotFoundError, ImportError, ValueError) as err:
            parser.error(f"{name}: {err}")
        if args.quick:
            native = native[native[TIME] > native[TIME].max() - proto.DAY * 60]
        if args.split == "validation":
            native = proto.before_test_block(spec, native, args.windows)
        cuts = proto.cutoffs(spec, native)[-args.windows:]
        scales = proto.scale_of(spec, native, cuts[0])
        if spec.resample:
            t0 = time.perf_counter()
            references[name] = {**proto.score(s4_complete(native, cuts, spec, args.seed, args.quick), scales),
                                "seconds": round(time.perf_counter() - t0, 1)}
            print(f"{name} {REFERENCE}: MAE {references[name]['mae']:.4g}", file=sys.stderr, flush=True)
        for removed in (args.removed if spec.resample else [0.0]):
            records.append(run_setting(spec, native, removed, args, scales))
            print(table(records[-1]) + "\n", flush=True)
    for name, ref in references.items():
        print(f"{name} {REFERENCE}: MAE {ref['mae']:.4g}, MASE {ref['mase']:.4f}, "
              f"CRPS {ref.get('crps', float('nan')):.4f}, {ref['seconds']:.0f} s")
    final = {"quick": args.quick, "split": args.split, "seconds": round(time.perf_counter() - started, 1),
             "seed": args.seed, "irregular_settings": args.irregular_set, "binned_settings": args.binned_set,
             "targets": targets(records, references),
             "mae": {f"{r['dataset']} {r['removed']:.0%}": {n: m.get("mae") for n, m in r["models"].items()}
                     for r in records},
             "reference_mae": {n: r["mae"] for n, r in references.items()}}
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        command = "benchmarks/irregular.py " + " ".join(argv if argv is not None else sys.argv[1:])
        (args.out / "irregular.md").write_text(f"`{command}`\n\n" + "\n\n".join(table(r) for r in records) + "\n")
        full = {**final, "command": command, "versions": versions(["s4ts", "torch", "pandas", "statsforecast", "neuralforecast"]), "records": records,
                "references": references}
        (args.out / "irregular.json").write_text(json.dumps(full, indent=2, default=str) + "\n")
    print(json.dumps(final))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
