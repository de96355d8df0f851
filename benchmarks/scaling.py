"""S4Forecaster end to end at the sizes users have: long histories, many series, streaming, training.

Every figure is S4Forecaster's own `fit` / `predict` / `update` at its defaults (horizon 24,
context 96, the default network) on synthetic hourly series (daily sine + noise, different
amplitude and level per series), each measured in a fresh process so that peak memory
(ru_maxrss) is the measurement's own:

- history: `predict(df)` from one series of 10^3 ... 10^6 steps (a model fitted once on
  2,000 steps); time and peak memory;
- series: `fit` (one epoch of the default 50 batches) and `predict()` for 10 ... 10,000
  series of 500 steps;
- streaming: after fitting 1,000 series, `update` with one new observation for each (one
  frame of 1,000 rows), per observation; and one series' single row, per call;
- training: windows per second of S4Forecaster's training loop at its defaults (batch 32,
  context 96) beside NeuralForecast's NHITS and PatchTST with `windows_batch_size=32`,
  `input_size=96`, on the same 20 series of 2,000 steps (the `peers` extra; skipped
  without it).

Log-log slopes are least-squares fits of log time on log size. The last line is JSON.

  .venv/bin/python benchmarks/scaling.py                # about 10 minutes on 2 cores
  .venv/bin/python benchmarks/scaling.py --quick        # smoke test: small sizes
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import time

import numpy as np
import pandas as pd

HORIZON = 24


def series_frame(n_series: int, length: int, seed: int = 0) -> pd.DataFrame:
    """n_series hourly series of `length` steps: daily sines of different amplitude and level."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    times = pd.date_range("2000-01-01", periods=length, freq="h")
    amplitude = rng.uniform(1, 5, n_series)[:, None]
    level = rng.uniform(-10, 10, n_series)[:, None]
    y = level + amplitude * np.sin(2 * np.pi * t / 24) + 0.3 * rng.normal(size=(n_series, length))
    return pd.DataFrame({"unique_id": np.repeat(np.arange(n_series), length),
                         "ds": np.tile(times, n_series), "y": y.ravel()})


def _model(quick: bool, **kwargs):
    from s4ts import S4Forecaster

    small = {"d_model": 16, "n_layers": 1, "d_state": 16} if quick else {}
    return S4Forecaster(horizon=HORIZON, accelerator="cpu", random_state=0, **small, **kwargs)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure_history(length: int, quick: bool) -> dict:
    model = _model(quick, max_epochs=1, batches_per_epoch=5).fit(series_frame(1, 2000))
    df = series_frame(1, length, seed=1)
    before = _peak_mb()
    started = time.perf_counter()
    forecast = model.predict(df)
    seconds = time.perf_counter() - started
    assert len(forecast) == HORIZON
    return {"steps": length, "predict_s": seconds, "peak_mb": _peak_mb(), "peak_before_mb": before}


def measure_series(n_series: int, quick: bool) -> dict:
    df = series_frame(n_series, 500)
    model = _model(quick, max_epochs=1, val_size=0)
    started = time.perf_counter()
    model.fit(df)
    fitted = time.perf_counter()
    forecast = model.predict()
    predicted = time.perf_counter()
    assert len(forecast) == n_series * HORIZON
    return {"series": n_series, "fit_s": fitted - started, "predict_s": predicted - fitted, "peak_mb": _peak_mb()}


def measure_streaming(n_series: int, quick: bool) -> dict:
    df = series_frame(n_series, 500)
    model = _model(quick, max_epochs=1, batches_per_epoch=5, val_size=0).fit(df)
    last = df.ds.max()
    new = pd.DataFrame({"unique_id": np.arange(n_series), "ds": last + pd.Timedelta(hours=1),
                        "y": np.zeros(n_series)})
    started = time.perf_counter()
    model.update(new)
    batch_s = time.perf_counter() - started
    calls = 50
    started = time.perf_counter()
    for k in range(calls):
        model.update(pd.DataFrame({"unique_id": [0], "ds": [last + pd.Timedelta(hours=2 + k)], "y": [0.0]}))
    single_s = (time.perf_counter() - started) / calls
    return {"series": n_series, "update_ms_per_observation": 1000 * batch_s / n_series,
            "update_ms_single_call": 1000 * single_s}


def _training_clock():
    """A Lightning callback timing the training loop (not data preparation); `.seconds`.
    The time is kept on its class, one per call: NeuralForecast trains a deep copy."""
    import lightning as L

    class TrainingClock(L.Callback):
        seconds = 0.0

        def on_train_start(self, trainer, module):
            type(self).started = time.perf_counter()

        def on_train_end(self, trainer, module):
            type(self).seconds = time.perf_counter() - type(self).started

    return TrainingClock()


def measure_training(quick: bool) -> dict:
    """Training windows per second (training loop only): S4Forecaster and, with the peers
    extra, NHITS and PatchTST at the same batch of 32 windows and context of 96 steps."""
    from s4ts._training import extra_callbacks

    df = series_frame(4 if quick else 20, 2000)
    steps = 5 if quick else 100
    clock = _training_clock()
    with extra_callbacks(clock):
        _model(quick, max_epochs=1, batches_per_epoch=steps, val_size=0).fit(df)
    out = {"S4Forecaster": steps * 32 / clock.seconds}
    try:
        import logging

        from neuralforecast import NeuralForecast
        from neuralforecast.models import NHITS, PatchTST
    except ImportError:
        return out
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    for peer in (NHITS, PatchTST):
        clock = _training_clock()
        model = peer(h=HORIZON, input_size=4 * HORIZON, max_steps=steps, windows_batch_size=32, batch_size=32,
                     random_seed=0, enable_progress_bar=False, logger=False, enable_model_summary=False,
                     accelerator="cpu", val_check_steps=10**6, callbacks=[clock])
        NeuralForecast(models=[model], freq="h").fit(df)
        out[peer.__name__] = steps * 32 / clock.seconds
    return out


def _in_fresh_process(function, *args):
    """function(*args) in a new process (its own peak memory); the result."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(function, args)


def slope(sizes, seconds) -> float:
    """Least-squares slope of log(seconds) on log(size)."""
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: small sizes, a small network")
    parser.add_argument("--skip-training", action="store_true", help="leave out the training throughput")
    args = parser.parse_args(argv)
    lengths = [10**3, 10**4] if args.quick else [10**3, 10**4, 10**5, 10**6]
    counts = [10, 100] if args.quick else [10, 100, 1000, 10000]
    history = [_in_fresh_process(measure_history, n, args.quick) for n in lengths]
    series = [_in_fresh_process(measure_series, n, args.quick) for n in counts]
    streaming = _in_fresh_process(measure_streaming, 100 if args.quick else 1000, args.quick)
    training = {} if args.skip_training else _in_fresh_process(measure_training, args.quick)

    print("| history steps | predict s | peak MB |\n|---|---|---|")
    for r in history:
        print(f"| {r['steps']:,} | {r['predict_s']:.3f} | {r['peak_mb']:.0f} |")
    print("\n| series (500 steps) | fit s (1 epoch) | predict s | peak MB |\n|---|---|---|---|")
    for r in series:
        print(f"| {r['series']:,} | {r['fit_s']:.2f} | {r['predict_s']:.3f} | {r['peak_mb']:.0f} |")
    print(f"\nupdate: {streaming['update_ms_per_observation']:.3f} ms per observation "
          f"({streaming['series']} series in one frame), {streaming['update_ms_single_call']:.2f} ms per "
          f"single-row call")
    if training:
        print("\ntraining windows/s: " + ", ".join(f"{k} {v:.0f}" for k, v in training.items()))
    final = {
        "quick": args.quick,
        "history_slope": round(slope(lengths, [r["predict_s"] for r in history]), 3),
        "series_slope": round(slope(counts, [r["predict_s"] for r in series]), 3),
        "series_fit_slope": round(slope(counts, [r["fit_s"] for r in series]), 3),
        "predict_1e6_steps_s": None if args.quick else round(history[-1]["predict_s"], 3),
        "predict_10k_series_s": None if args.quick else round(series[-1]["predict_s"], 3),
        "update_ms": round(streaming["update_ms_per_observation"], 4),
        "training_windows_per_s": {k: round(v, 1) for k, v in training.items()},
        "history": history, "series": series, "streaming": streaming,
    }
    if "PatchTST" in training:
        final["s4_over_patchtst_throughput"] = round(training["S4Forecaster"] / training["PatchTST"], 3)
        final["s4_over_nhits_throughput"] = round(training["S4Forecaster"] / training["NHITS"], 3)
    print(json.dumps(final))
    return 0


if __name__ == "__main__":
    sys.exit(main())
