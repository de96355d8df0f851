"""Training throughput of one S4Forecaster fit in 1 and in 2 processes (1 thread each), on vic_elec.

The same fit (vic_elec half-hourly demand, temperature and holiday as future-known
covariates, horizon 48, the default network, --epochs epochs of --batches batches of 32
windows, no validation) runs with `devices=1` and with `devices=2, strategy="ddp_spawn"`
(gloo on CPU). Each epoch's windows are split between the processes, so both runs train on
the same number of windows; throughput is windows per second of training (from the first
training batch to the end of the last epoch, on rank 0), and the wall time of the whole
`fit` (process start-up included) is reported too. The last line is JSON with the ratio.

  .venv/bin/python benchmarks/distributed_throughput.py
  .venv/bin/python benchmarks/distributed_throughput.py --quick    # smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import lightning as L
import torch

from s4ts import S4Forecaster
from s4ts._training import extra_callbacks
from s4ts.bench.versions import versions
from s4ts.datasets import load_vic_elec


class TrainingClock(L.Callback):
    """Writes rank 0's training seconds and the windows all processes trained on."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.started = 0.0

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        torch.set_num_threads(1)  # each process one thread, as the benchmark promises
        self.started = time.perf_counter()

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.is_global_zero:
            sampler = trainer.train_dataloader.sampler
            windows = sampler.num_samples * trainer.current_epoch
            Path(self.path).write_text(json.dumps({"seconds": time.perf_counter() - self.started,
                                                   "windows": windows, "world": trainer.world_size}))


def run(df, processes: int, args) -> dict:
    """Fit once with `processes` processes; its training throughput and wall time."""
    settings = {"devices": processes, "strategy": "ddp_spawn"} if processes > 1 else {}
    small = {"d_model": 16, "n_layers": 1, "d_state": 16} if args.quick else {}
    model = S4Forecaster(horizon=48, futr_exog=["temperature", "holiday"], max_epochs=args.epochs,
                         batches_per_epoch=args.batches, val_size=0, accelerator="cpu", random_state=0,
                         **small, **settings)
    with tempfile.TemporaryDirectory() as folder:
        record = Path(folder) / "clock.json"
        started = time.perf_counter()
        with extra_callbacks(TrainingClock(str(record))):
            model.fit(df)
        wall = time.perf_counter() - started
        clock = json.loads(record.read_text())
    return {"processes": processes, "world": clock["world"], "windows": clock["windows"],
            "train_s": round(clock["seconds"], 2), "fit_wall_s": round(wall, 2),
            "windows_per_s": round(clock["windows"] / clock["seconds"], 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batches", type=int, default=50, help="batches of 32 windows per epoch (all processes)")
    parser.add_argument("--quick", action="store_true", help="smoke test: a week of data, 1 epoch of 4 batches")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.batches = 1, 4
    if args.epochs < 1 or args.batches < 1:
        parser.error("--epochs and --batches must be positive")
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # inherited by the spawned processes
    df = load_vic_elec()
    if args.quick:
        df = df.iloc[: 48 * 14]
    runs = [run(df, processes, args) for processes in (1, 2)]
    print("| processes | windows | train s | windows/s | fit wall s |\n|---|---|---|---|---|")
    for r in runs:
        print(f"| {r['processes']} | {r['windows']} | {r['train_s']} | {r['windows_per_s']} | {r['fit_wall_s']} |")
    ratio = runs[1]["windows_per_s"] / runs[0]["windows_per_s"]
    print(json.dumps({"quick": args.quick, "runs": runs, "throughput_ratio_2_over_1": round(ratio, 3),
                      "wall_ratio_1_over_2": round(runs[0]["fit_wall_s"] / runs[1]["fit_wall_s"], 3),
                      "versions": versions(("s4ts", "torch", "lightning"))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
