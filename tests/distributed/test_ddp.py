"""Multi-process training on CPU (gloo, two processes): shards, weights back in the calling
process, accuracy like a single-process fit, refused strategies, rank-0-only writing."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from ddp_recorder import ShardRecorder
from lightning.fabric.utilities.rank_zero import rank_zero_only

from s4ts import S4Classifier, S4Forecaster
from s4ts._training import extra_callbacks

HERE = Path(__file__).parent
H = 12
SMALL = {"d_model": 16, "n_layers": 2, "d_state": 16, "max_epochs": 4, "batches_per_epoch": 8,
         "accelerator": "cpu", "random_state": 0}


def _series(n=4, length=400, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    frames = [pd.DataFrame({"unique_id": f"s{i}", "ds": t,
                            "y": (i + 1) * np.sin(2 * np.pi * t / H) + 0.1 * rng.normal(size=length)})
              for i in range(n)]
    return pd.concat(frames, ignore_index=True)


def _mae(model, df):
    history = df.groupby("unique_id").head(len(df) // 4 - H)
    truth = df.groupby("unique_id").nth(list(range(len(df) // 4 - H, len(df) // 4)))
    forecast = model.fit(history).predict()
    return float(np.abs(forecast["y_pred"].to_numpy() - truth["y"].to_numpy()).mean())


def test_ddp_spawn_fit_shards_windows_and_returns_the_weights(tmp_path):
    df = _series()
    single = S4Forecaster(horizon=H, **SMALL)
    spawned = S4Forecaster(horizon=H, devices=2, strategy="ddp_spawn", **SMALL)
    with extra_callbacks(ShardRecorder(str(tmp_path))):
        spawned_mae = _mae(spawned, df)
    single_mae = _mae(single, df)
    # Both ranks drew disjoint halves of the same epoch draw.
    for epoch in range(SMALL["max_epochs"]):
        ranks = [json.loads((tmp_path / f"rank{r}_epoch{epoch}.json").read_text()) for r in (0, 1)]
        assert ranks[0]["world"] == 2 and ranks[0]["draw"] == ranks[1]["draw"]
        assert not set(ranks[0]["indices"]) & set(ranks[1]["indices"])
        assert sorted(ranks[0]["indices"] + ranks[1]["indices"]) == sorted(ranks[0]["draw"])
    # The calling process holds trained weights: as accurate as one process, far better than
    # the series' mean (MAE of a sine of amplitude a: 2a/pi on average).
    assert spawned.n_epochs_ >= 1 and np.isfinite(spawned.best_val_loss_)
    mean_forecast_mae = np.mean([2 * (i + 1) / np.pi for i in range(4)])
    assert spawned_mae < 0.5 * mean_forecast_mae, (spawned_mae, mean_forecast_mae)
    assert spawned_mae < 2.0 * single_mae + 0.05, (spawned_mae, single_mae)


def test_ddp_spawn_classifier(tmp_path):
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 64)
    X = np.stack([np.sin(2 * np.pi * (3 + 4 * (i % 2)) * t + rng.uniform(0, 6)) + 0.2 * rng.normal(size=64)
                  for i in range(80)])[:, None, :]  # (80, 1, 64): two frequencies
    y = np.arange(80) % 2
    settings = {"d_model": 16, "n_layers": 1, "d_state": 16, "max_epochs": 8, "accelerator": "cpu",
                "n_estimators": 1, "random_state": 0}
    with pytest.raises(ValueError, match="n_estimators=3 with devices=2.*pass n_estimators=1"):
        S4Classifier(devices=2, strategy="ddp_spawn", **{**settings, "n_estimators": 3}).fit(X[:60], y[:60])
    spawned = S4Classifier(devices=2, strategy="ddp_spawn", **settings).fit(X[:60], y[:60])
    single = S4Classifier(**settings).fit(X[:60], y[:60])
    assert spawned.score(X[60:], y[60:]) >= min(0.9, single.score(X[60:], y[60:]) - 0.1)


def test_ddp_relaunching_the_script_trains_every_rank_alike(tmp_path):
    """strategy='ddp': the script runs again as rank 1; both ranks end with the same weights,
    and only rank 0 writes the model."""
    script = HERE / "ddp_script.py"
    run = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    checksums = {path.name: path.read_text() for path in sorted(tmp_path.glob("rank*.txt"))}
    assert list(checksums) == ["rank0.txt", "rank1.txt"], run.stdout
    assert len(set(checksums.values())) == 1  # the same weights checksum on both ranks
    loaded = S4Forecaster.load(tmp_path / "model")
    assert len(loaded.predict()) == 2 * H


@pytest.mark.parametrize(("params", "message"), [
    ({"strategy": "fsdp"}, "strategy='fsdp' is not one the estimator can train with.*Sharded"),
    ({"strategy": "deepspeed"}, "strategy='deepspeed'"),
    ({"devices": 0}, "devices=0 must be a positive integer"),
    ({"num_nodes": 0}, "num_nodes=0 must be a positive integer"),
])
def test_unsuitable_settings_are_refused(params, message):
    with pytest.raises(ValueError, match=message):
        S4Forecaster(horizon=H, **params).fit(_series(1, 100))
    with pytest.raises(ValueError, match=message):
        S4Classifier(n_estimators=1, **params).fit(np.zeros((4, 1, 16)), [0, 1, 0, 1])


def test_only_rank_zero_writes_files(tmp_path, monkeypatch):
    model = S4Forecaster(horizon=H, d_model=8, n_layers=1, d_state=8, max_epochs=1, batches_per_epoch=1)
    model.fit(_series(1, 100))
    monkeypatch.setattr(rank_zero_only, "rank", 1)
    model.save(tmp_path / "rank1")
    assert not (tmp_path / "rank1").exists()
    monkeypatch.setattr(rank_zero_only, "rank", 0)
    model.save(tmp_path / "rank0")
    assert torch.equal(S4Forecaster.load(tmp_path / "rank0").net_.linear.weight, model.net_.linear.weight)


def test_a_strategy_object_is_accepted_and_saved_by_name():
    from lightning.pytorch.strategies import DDPStrategy

    from s4ts._distributed import check_distributed_params
    from s4ts._persistence import jsonable

    model = S4Forecaster(horizon=H, devices=2, strategy=DDPStrategy())
    check_distributed_params(model)  # no error
    assert jsonable("strategy", model.strategy) == "ddp"
    assert jsonable("strategy", DDPStrategy(start_method="spawn")) == "ddp_spawn"
