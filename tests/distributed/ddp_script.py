"""Run by test_ddp.py: a strategy='ddp' fit, which Lightning completes by running this script
again as rank 1. Each rank writes a checksum of its weights to rank<k>.txt in the folder given
(its own file: the two processes share stdout, where their lines can interleave); rank 0 saves."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from lightning.fabric.utilities.rank_zero import rank_zero_only

from s4ts import S4Forecaster

if __name__ == "__main__":
    torch.set_num_threads(1)
    t = np.arange(300)
    df = pd.concat([pd.DataFrame({"unique_id": f"s{i}", "ds": t, "y": (i + 1) * np.sin(2 * np.pi * t / 12)})
                    for i in range(2)], ignore_index=True)
    model = S4Forecaster(horizon=12, d_model=8, n_layers=1, d_state=8, max_epochs=2, batches_per_epoch=4,
                         accelerator="cpu", devices=2, strategy="ddp", random_state=0).fit(df)
    checksum = sum(float(p.double().sum()) for p in model.net_.parameters())
    out = Path(sys.argv[1])
    (out / f"rank{rank_zero_only.rank}.txt").write_text(f"{checksum:.10e}\n")
    model.save(out / "model")
