"""Distributed tuning speed-up: one Optuna study on PostgreSQL run by 1 worker process, then by 2.

Both runs are the same study: --trials (16) finished trials of `tune` on a fixed small
S4Forecaster (horizon 24, context 96, d_model 32, 2 layers, d_state 32) over a synthetic hourly
series (daily and weekly cycles and noise, 2,000 steps, the same in every process), 3 rolling
validation origins, MASE. The search space holds only parameters that leave a trial's work
unchanged (learning rate, weight decay, dropout, norm), every trial trains a fixed
--epochs x --batches-per-epoch batches (no early stop, no pruner, no time cap), so the runs
differ only in how many processes share the trials. Each run gets a fresh database on the
--postgres server (CREATE DATABASE, dropped afterwards); the parent creates the study, then
starts the workers (`python benchmarks/tuning_workers.py --worker ...`, each with
OMP_NUM_THREADS=1 and torch.set_num_threads(1), its own TPE seed) and waits for all of them.
A worker stops once the study holds --trials finished trials (it may finish the one it is in,
so 2 workers can leave one more).

Reported per run: wall seconds from starting the workers to the last one's exit (their
imports included), the span from the first trial's start to the last trial's end, trials
finished per state and per worker, the mean trial seconds, and whether any trial number
repeats. The speed-up is the 1-worker wall time over the 2-worker one (target >= 1.6 on 2
cores). The last line is JSON; with --out the table and the record go to
DIR/tuning_workers.md and DIR/tuning_workers.json.

  bash scripts/start_postgres.sh     # prints the URL; or give --postgres / S4TS_TEST_POSTGRES
  .venv/bin/python benchmarks/tuning_workers.py --out benchmarks/results/tuning_workers_v1
  .venv/bin/python benchmarks/tuning_workers.py --quick   # smoke test: 4 trials, a tiny model
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from s4ts.bench.versions import versions

DEFAULT_POSTGRES = os.environ.get("S4TS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:55432/postgres")
STUDY = "tuning_workers"
RECORD = {"estimator": "S4Forecaster", "metric": "mase", "benchmark": "tuning_workers"}
HORIZON, SEASON, LENGTH = 24, 24, 2000
MODEL = {"context_length": 96, "d_model": 32, "n_layers": 2, "d_state": 32, "batch_size": 32}
TINY = {"context_length": 48, "d_model": 8, "n_layers": 1, "d_state": 8, "batch_size": 16}
WORKER_TIMEOUT = 3600  # seconds a run may take before its workers are stopped


def series(length: int = LENGTH) -> pd.DataFrame:
    """The benchmark's hourly series: daily and weekly cycles, a slow trend and noise (seed 0)."""
    rng = np.random.default_rng(0)
    t = np.arange(length)
    y = (10 + 0.001 * t + 3 * np.sin(2 * np.pi * t / 24) + np.sin(2 * np.pi * t / 168)
         + rng.normal(0, 0.5, length))
    return pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2020-01-01", periods=length, freq="h"), "y": y})


def forecaster(args):
    """The fixed forecaster every trial starts from: a fixed number of batches per trial."""
    from s4ts.forecasting import S4Forecaster

    return S4Forecaster(horizon=HORIZON, **(TINY if args.quick else MODEL), max_epochs=args.epochs,
                        batches_per_epoch=args.batches_per_epoch, early_stopping_patience=args.epochs,
                        random_state=0)


def space(trial) -> dict:
    """Parameters that change the model's fit but not its cost; the trial records its worker."""
    trial.set_user_attr("worker", os.getpid())
    return {"learning_rate": trial.suggest_float("learning_rate", 3e-4, 1e-2, log=True),
            "weight_decay": trial.suggest_float("weight_decay", 1e-4, 0.1, log=True),
            "dropout": trial.suggest_float("dropout", 0.0, 0.3),
            "norm": trial.suggest_categorical("norm", ["mean", "last"])}


def worker(args) -> int:
    """One worker process: trials of the study until it holds --trials finished ones."""
    import optuna
    import torch

    from s4ts.tuning import open_storage, tune

    torch.set_num_threads(1)
    tune(forecaster(args), series(), n_trials=args.trials, search_space=space, metric="mase",
         season=SEASON, storage=open_storage(args.storage), study_name=args.study_name,
         sampler=optuna.samplers.TPESampler(seed=args.seed), pruner=optuna.pruners.NopPruner(),
         random_state=args.seed, refit=False, verbose=False)
    return 0


def _url(url: str, database: str | None = None, driver: str | None = None) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    parsed = parsed.set(database=database) if database else parsed
    return (parsed.set(drivername=driver) if driver else parsed).render_as_string(hide_password=False)


def admin_connection(url: str):
    """An autocommit connection to the server's maintenance database (CREATE/DROP DATABASE)."""
    import psycopg2

    connection = psycopg2.connect(_url(url, driver="postgresql"), connect_timeout=5)
    connection.autocommit = True
    return connection


def start_workers(n_workers: int, url: str, args) -> float:
    """Start `n_workers` worker processes on the study at `url`; seconds until the last exits."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--storage", url,
               "--study-name", STUDY, "--trials", str(args.trials), "--epochs", str(args.epochs),
               "--batches-per-epoch", str(args.batches_per_epoch), *(["--quick"] if args.quick else [])]
    with contextlib.ExitStack() as stack:
        # Files, not pipes: a worker blocked on a full pipe would stall the run.
        logs = [stack.enter_context(tempfile.TemporaryFile(mode="w+")) for _ in range(n_workers)]
        start = time.perf_counter()
        processes = [subprocess.Popen([*command, "--seed", str(args.seed + i)], env=env, stdout=log,
                                      stderr=subprocess.STDOUT, text=True) for i, log in enumerate(logs)]
        try:
            for process in processes:
                process.wait(timeout=max(1.0, WORKER_TIMEOUT - (time.perf_counter() - start)))
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        wall = time.perf_counter() - start
        for process, log in zip(processes, logs):
            if process.returncode != 0:
                log.seek(0)
                raise RuntimeError(f"a worker of the {n_workers}-worker run exited with {process.returncode}:\n"
                                   + log.read()[-4000:])
    return wall


def run(n_workers: int, args, admin) -> dict:
    """The study in a fresh database, run by `n_workers` worker processes; its timings and trials."""
    import optuna

    from s4ts.tuning import open_storage
    from s4ts.tuning.storage import open_study

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    database = f"s4ts_bench_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {database}")
    url = _url(args.postgres, database=database)
    try:
        storage = open_storage(url)
        open_study(storage, STUDY, RECORD, "minimize", None, None)  # before any worker starts
        wall = start_workers(n_workers, url, args)
        trials = optuna.load_study(study_name=STUDY, storage=storage).trials
        storage.engine.dispose()  # let the database go
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    return summarize(n_workers, wall, trials)


def summarize(n_workers: int, wall: float, trials) -> dict:
    """Timings, states, workers and repeated numbers of one run's trials."""
    done = [t for t in trials if t.datetime_start and t.datetime_complete]
    if not done:
        raise RuntimeError(f"the {n_workers}-worker run finished no trial")
    numbers = Counter(t.number for t in trials)
    states = Counter(t.state.name.lower() for t in trials)
    span = (max(t.datetime_complete for t in done) - min(t.datetime_start for t in done)).total_seconds()
    return {
        "workers": n_workers, "seconds": wall, "trial_span_seconds": span,
        "finished": states["complete"] + states["pruned"], "states": dict(states),
        "trials_per_worker": sorted(Counter(t.user_attrs.get("worker") for t in trials).values()),
        "mean_trial_seconds": float(np.mean([(t.datetime_complete - t.datetime_start).total_seconds()
                                             for t in done])),
        "duplicate_numbers": sorted(n for n, count in numbers.items() if count > 1),
        "numbers_contiguous": sorted(numbers) == list(range(len(numbers))),
        "best_value": min((t.value for t in trials if t.value is not None), default=None),
    }


def table(runs: list[dict]) -> str:
    head = ["workers", "wall s", "trial span s", "finished", "states", "trials per worker",
            "mean trial s", "duplicate numbers"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in runs:
        states = ", ".join(f"{k} {v}" for k, v in sorted(r["states"].items()))
        lines.append(f"| {r['workers']} | {r['seconds']:.1f} | {r['trial_span_seconds']:.1f} | {r['finished']} | "
                     f"{states} | {r['trials_per_worker']} | {r['mean_trial_seconds']:.2f} | "
                     f"{r['duplicate_numbers'] or 'none'} |")
    return "\n".join(lines)


def package_versions() -> dict[str, str]:
    return versions(("s4ts", "torch", "optuna", "sqlalchemy", "psycopg2-binary"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=None, help="finished trials of the study (default 16; --quick 4)")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES,
                        help="server URL; each run makes its own database there (default: $S4TS_TEST_POSTGRES "
                             "or postgresql://postgres@127.0.0.1:55432/postgres)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs of every trial (default 4; --quick 1)")
    parser.add_argument("--batches-per-epoch", type=int, default=None,
                        help="batches of every epoch (default 25; --quick 2)")
    parser.add_argument("--seed", type=int, default=0, help="TPE seed of the first worker (the n-th: seed + n)")
    parser.add_argument("--quick", action="store_true", help="smoke test: 4 trials of a tiny model, 2 batches each")
    parser.add_argument("--out", type=Path, default=None, help="folder for tuning_workers.md and .json")
    parser.add_argument("--worker", action="store_true", help="(internal) run as one worker of --storage")
    parser.add_argument("--storage", default=None, help="(internal) the study's database URL, with --worker")
    parser.add_argument("--study-name", default=STUDY, help="(internal) the study, with --worker")
    args = parser.parse_args(argv)
    args.trials = args.trials or (4 if args.quick else 16)
    args.epochs = args.epochs or (1 if args.quick else 4)
    args.batches_per_epoch = args.batches_per_epoch or (2 if args.quick else 25)
    for flag in ("trials", "epochs", "batches_per_epoch"):
        if not getattr(args, flag) > 0:
            parser.error(f"--{flag.replace('_', '-')} must be positive, got {getattr(args, flag)}")
    if args.worker:
        if not args.storage:
            parser.error("--worker needs --storage URL (the parent passes it)")
        return worker(args)
    try:
        import optuna  # noqa: F401
        import psycopg2

        from s4ts.tuning.storage import redacted
    except ImportError as err:
        parser.error(f"the workers benchmark needs the tune extra (optuna, psycopg2): {err}")
    try:
        admin = admin_connection(args.postgres)
    except (psycopg2.Error, ValueError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        parser.error(f"--postgres {redacted(args.postgres)}: cannot connect ({reason}); start a server with "
                     f"bash scripts/start_postgres.sh")

    runs = []
    try:
        for n_workers in (1, 2):
            runs.append(run(n_workers, args, admin))
            print(f"{n_workers} worker(s): {runs[-1]['seconds']:.1f} s, {runs[-1]['finished']} trials finished",
                  file=sys.stderr, flush=True)
    finally:
        admin.close()
    one, two = runs
    speedup = one["seconds"] / two["seconds"]
    per_trial = (one["seconds"] / one["finished"]) / (two["seconds"] / two["finished"])
    span = one["trial_span_seconds"] / two["trial_span_seconds"]
    text = table(runs)
    print(text)
    ok = not one["duplicate_numbers"] and not two["duplicate_numbers"]
    print(f"\nspeed-up 2 workers / 1: {speedup:.2f}x wall ({per_trial:.2f}x per finished trial, {span:.2f}x "
          f"first trial start to last trial end); target >= 1.6: {speedup >= 1.6}; no duplicate trial numbers: {ok}")
    final = {"quick": args.quick, "trials": args.trials, "seconds_1_worker": round(one["seconds"], 2),
             "seconds_2_workers": round(two["seconds"], 2), "speedup": round(speedup, 3),
             "speedup_per_trial": round(per_trial, 3), "speedup_trial_span": round(span, 3),
             "finished_1_worker": one["finished"],
             "finished_2_workers": two["finished"], "no_duplicate_trial_numbers": ok,
             "target_speedup_1_6": speedup >= 1.6}
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        command = "benchmarks/tuning_workers.py " + " ".join(argv if argv is not None else sys.argv[1:])
        (args.out / "tuning_workers.md").write_text(f"`{command}`\n\n{text}\n\n{json.dumps(final)}\n")
        full = {**final, "command": command, "versions": package_versions(), "runs": runs}
        (args.out / "tuning_workers.json").write_text(json.dumps(full, indent=2, default=str) + "\n")
    print(json.dumps(final))
    return 0


if __name__ == "__main__":
    sys.exit(main())
