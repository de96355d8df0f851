"""The Informer protocol: split borders, windows, the linear baseline, and tiny end-to-end runs
of S4Forecaster under the protocol (on ETTh1 when the data is there)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from s4ts import S4Forecaster
from s4ts.bench import informer
from s4ts.bench.informer.baseline import NORMS, LinearForecaster, Windows
from s4ts.bench.informer.forecaster import fit_forecaster, point_forecasts, scores
from s4ts.bench.informer.protocol import ProtocolData, split_borders
from s4ts.bench.informer.search import candidates, parse_search
from s4ts.datasets import get_dataset


def test_ett_hourly_borders_follow_informer():
    borders = split_borders(get_dataset("ETTh1"), 17420, seq_len=96)
    month = 30 * 24
    assert borders == [(0, 12 * month), (12 * month - 96, 16 * month),
                       (16 * month - 96, 20 * month)]


def test_ett_minute_and_ratio_borders():
    minute = split_borders(get_dataset("ETTm1"), 69680, seq_len=96)
    assert minute[2] == (16 * 30 * 24 * 4 - 96, 20 * 30 * 24 * 4)
    ratio = split_borders(get_dataset("Weather"), 1000, seq_len=10)
    assert ratio == [(0, 700), (690, 800), (790, 1000)]


def test_short_file_and_long_context_are_rejected():
    with pytest.raises(ValueError, match="20 months"):
        split_borders(get_dataset("ETTh2"), 10000, seq_len=96)
    with pytest.raises(ValueError, match="seq_len=800"):
        split_borders(get_dataset("Weather"), 1000, seq_len=800)


def test_windows_cover_every_stride_one_window():
    data = np.arange(20, dtype=np.float32)[:, None]  # (T, 1)
    windows = Windows(data, seq_len=5, pred_len=3)
    assert windows.count == 13
    x, y = windows.batch(torch.tensor([0, 12]))
    assert x[1, :, 0].tolist() == [12, 13, 14, 15, 16]
    assert y[1, :, 0].tolist() == [17, 18, 19]
    with pytest.raises(ValueError, match="too short for seq_len=15"):
        Windows(data, seq_len=15, pred_len=6)


def test_protocol_frame_has_one_series_per_column():
    times = pd.date_range("2020-01-01", periods=6, freq="h")
    values = np.arange(12, dtype=np.float32).reshape(6, 2)  # (T, C)
    data = ProtocolData("ETTh1", values, times, ["a", "b"], [2, 4, 6])
    frame = data.frame(4)
    assert frame.groupby("unique_id")["y"].apply(list).to_dict() == {
        "a": [0, 2, 4, 6], "b": [1, 3, 5, 7]}
    assert (frame["ds"].iloc[:4] == times[:4]).all()
    assert data.n_origins("validation", 2) == 1 and data.n_origins("test", 1) == 2
    with pytest.raises(ValueError, match="test: no forecast windows of horizon 3"):
        data.n_origins("test", 3)


def _synthetic(n_columns: int = 1) -> ProtocolData:
    """Hourly sinusoids with the protocol's shape: 60 train, 20 validation, 20 test rows."""
    t = np.arange(100)
    waves = [np.sin(2 * np.pi * t / 12 + k) for k in range(n_columns)]
    values = np.stack(waves, axis=1).astype(np.float32)  # (T, C)
    times = pd.date_range("2021-01-01", periods=100, freq="h")
    return ProtocolData("ETTh1", values, times, [f"c{k}" for k in range(n_columns)], [60, 80, 100])


TINY = {"d_model": 8, "n_layers": 1, "d_state": 8, "max_epochs": 1, "random_state": 0}


def test_forecaster_scores_every_window_of_a_split_in_order():
    data = _synthetic(n_columns=2)
    model = fit_forecaster(data, seq_len=12, horizon=4, params=TINY)
    assert isinstance(model, S4Forecaster) and model.val_size == 20 and model.scaler is None
    preds, truth = point_forecasts(model, data, "test")
    count = data.n_origins("test", 4)
    assert count == 17 and preds.shape == truth.shape == (count * 2 * 4,)
    # Window j of the test split: origin at row 79 + j, targets rows 80 + j ... 83 + j.
    last = model.predict(data.frame(99 - 3))  # the history before the last window
    assert np.allclose(preds[-8:], last["y_pred"].to_numpy())
    expected = np.concatenate([data.values[80 + j : 84 + j].T.reshape(-1) for j in range(count)])
    assert np.allclose(truth, expected)
    mse, mae = scores([preds, preds + 1.0], truth)  # an ensemble's mean is scored
    assert np.isclose(mse, np.mean((preds + 0.5 - truth) ** 2))
    assert np.isclose(mae, np.mean(np.abs(preds + 0.5 - truth)))


def test_a_validation_stride_scores_every_kth_window_of_the_same_set():
    data = _synthetic(n_columns=2)
    model = fit_forecaster(data, seq_len=12, horizon=4, params=TINY)
    every, truth = point_forecasts(model, data, "validation")
    strided, strided_truth = point_forecasts(model, data, "validation", stride=5)
    count = data.n_origins("validation", 4)
    kept = np.arange(0, count, 5)  # windows 0, 5, 10, ...
    by_window = every.reshape(count, -1)  # (windows, columns x horizon)
    assert np.allclose(strided, by_window[kept].reshape(-1), atol=1e-5)
    assert np.allclose(strided_truth, truth.reshape(count, -1)[kept].reshape(-1))


def run_tiny_etth1(tmp_path: Path, *options: str) -> dict:
    """Run `s4ts bench informer` on ETTh1 S, H=24, with a tiny model; return its JSON record."""
    data = os.environ.get("S4TS_DATA")
    if not data or not (Path(data) / "ETTh1.csv").is_file():
        pytest.skip("ETTh1.csv not found: set S4TS_DATA to the folder holding the ETT CSVs")
    parser = argparse.ArgumentParser()
    informer.add_arguments(parser)
    args = parser.parse_args([
        "--dataset", "ETTh1", "--features", "S", "--horizons", "24", "--max-epochs", "1",
        "--d-model", "8", "--n-layers", "1", "--d-state", "8", "--batches-per-epoch", "4",
        "--out", str(tmp_path / "out"), "--json", str(tmp_path / "r.json"), *options,
    ])
    assert "Command:" in informer.run(args)
    (record,) = json.loads((tmp_path / "r.json").read_text())
    return record


def test_end_to_end_tiny_run(tmp_path: Path):
    record = run_tiny_etth1(tmp_path, "--seq-len", "48")
    assert record["horizon"] == 24 and record["test_windows"] == 16 * 720 - 24 - 12 * 720 + 1
    for key in ("ours_mse", "ours_mae", "linear_mse", "linear_mae"):
        assert np.isfinite(record[key]) and record[key] > 0
    # A broken pipeline (unscaled data, misaligned targets) lands far above these values.
    assert record["ours_mse"] < 1.0 and record["linear_mse"] < 1.0
    assert record["ours_epochs"] == [1]
    assert (record["s4_paper_mse"], record["informer_mse"]) == (0.061, 0.098)
    table = (tmp_path / "out" / "informer_ETTh1_S.md").read_text()
    assert "| ETTh1 | S | 24 | 48 |" in table
    assert (tmp_path / "out" / "informer_ETTh1_S.csv").is_file()


def test_search_picks_by_validation_and_ensembles(tmp_path: Path):
    record = run_tiny_etth1(
        tmp_path, "--search", "seq_len=24,48", "linear=true", "--ensemble", "2",
    )
    trials = record["search"]
    assert sorted((t["seq_len"], t["linear"]) for t in trials) == [(24, True), (48, True)]
    assert record["study"]["complete"] == 2 and record["study"]["pruned"] == 0  # a grid prunes nothing
    best = min(trials, key=lambda t: t["val_mse"])
    assert record["selected"] == {"seq_len": best["seq_len"], "linear": True}
    assert record["seq_len"] == best["seq_len"] and record["ensemble"] == 2
    assert record["linear_seq_len"] in (24, 48) and record["linear_norm"] in NORMS
    assert np.isfinite(record["ours_mse"]) and record["ours_mse"] < 1.0
    # Two members, so the ensemble's validation score is not the chosen trial's alone.
    assert len(record["ours_epochs"]) == 2 and record["ours_val_mse"] != best["val_mse"]


def test_tune_samples_trials_and_keeps_the_best_on_validation(tmp_path: Path):
    record = run_tiny_etth1(tmp_path, "--tune", "3", "--search", "seq_len=24,48", "learning_rate=1e-3,3e-3",
                            "--val-stride", "7")
    assert record["val_stride"] == 7
    study = record["study"]
    assert study["complete"] + study["pruned"] == 3 == len(record["search"])
    complete = [t for t in record["search"] if t["state"] == "COMPLETE"]
    best = min(complete, key=lambda t: t["val_mse"])
    assert record["selected"] == {"seq_len": best["seq_len"], "learning_rate": best["learning_rate"]}
    assert record["ours_val_mse"] == pytest.approx(best["val_mse"])
    assert record["linear_seq_len"] in (24, 48)  # the baseline chooses among the same contexts


def test_bench_space_uses_the_protocol_context_lengths():
    from s4ts.bench.informer.tuning import bench_space

    space = bench_space(S4Forecaster(horizon=24, context_length=96), train_rows=300)
    assert space["context_length"].choices == (96, 192)
    assert {"d_model", "n_layers", "d_state", "mode", "dropout", "learning_rate", "weight_decay", "norm",
            "linear"} <= set(space)


def test_search_grid_parsing():
    grid = parse_search(["seq_len=96,336", "calendar_features=true,false", "batches_per_epoch=0,5"])
    assert grid == {"seq_len": [96, 336], "calendar_features": [True, False],
                    "batches_per_epoch": [None, 5]}
    assert len(candidates(grid)) == 8 and candidates({}) == [{}]
    assert parse_search(["norm=last,mean", "mode=dplr"]) == {"norm": ["last", "mean"], "mode": ["dplr"]}
    for bad in (["seq_len"], ["colour=red"], ["seq_len=abc"], ["dropout="], ["linear=yes"],
                ["norm=median"], ["mode=s5"], ["distribution=normal"]):
        with pytest.raises(ValueError, match="--search"):
            parse_search(bad)


def test_options_reach_the_forecaster_and_unset_ones_keep_its_defaults():
    parser = argparse.ArgumentParser()
    informer.add_arguments(parser)
    args = parser.parse_args(["--d-model", "16", "--linear", "true", "--batches-per-epoch", "0"])
    assert informer.cli.forecaster_params(args) == {"d_model": 16, "linear": True, "random_state": 0}
    with pytest.raises(SystemExit):
        parser.parse_args(["--norm", "median"])


@pytest.mark.parametrize("options, message", [
    (["--d-model", "-1"], "d_model=-1 must be a positive integer"),
    (["--search", "dropout=0.1,2"], r"dropout=2.0 must be in \[0, 1\)"),
])
def test_bad_settings_fail_before_any_data_is_read(tmp_path: Path, monkeypatch, options, message):
    monkeypatch.setenv("S4TS_DATA", str(tmp_path))  # no CSV there: reading data would fail first
    parser = argparse.ArgumentParser()
    informer.add_arguments(parser)
    with pytest.raises(ValueError, match=message):
        informer.run(parser.parse_args([*options, "--out", str(tmp_path / "out")]))


@pytest.mark.parametrize("options, message", [
    (["--tune", "-2"], "--tune must be a number of trials"),
    (["--val-stride", "0"], "--val-stride must be a positive number"),
])
def test_study_options_are_checked(tmp_path: Path, options, message):
    parser = argparse.ArgumentParser()
    informer.add_arguments(parser)
    with pytest.raises(ValueError, match=message):
        informer.run(parser.parse_args([*options, "--out", str(tmp_path)]))


def test_ensemble_must_have_a_member(tmp_path: Path):
    parser = argparse.ArgumentParser()
    informer.add_arguments(parser)
    args = parser.parse_args(["--ensemble", "0", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="--ensemble must be at least 1"):
        informer.run(args)


def test_linear_baseline_is_the_least_squares_forecast():
    # Two channels that a linear map of the context predicts exactly, one with a level offset.
    t = np.arange(400)
    wave = np.sin(2 * np.pi * t / 24) + 0.5 * np.sin(2 * np.pi * t / 7)
    windows = Windows(np.stack([wave, 3.0 + wave], axis=1), seq_len=48, pred_len=12)
    x, y = windows.batch(torch.arange(windows.count))  # (B, 48, 2), (B, 12, 2)
    # Unfitted, "last" repeats the last value: a sane forecast, not a random map.
    torch.testing.assert_close(LinearForecaster(48, 12)(x), x[:, -1:].expand(-1, 12, -1))
    for norm in NORMS:
        fitted = LinearForecaster(48, 12, norm=norm).fit(windows, ridge=1e-6)
        assert (fitted(x) - y).abs().max() < 1e-3, norm
    # A heavy ridge shrinks the map towards "repeat the last value" (norm "last").
    shrunk = LinearForecaster(48, 12).fit(windows, ridge=1e9)
    torch.testing.assert_close(shrunk(x), x[:, -1:].expand(-1, 12, -1), atol=1e-3, rtol=0)
    with pytest.raises(ValueError, match="norm must be one of"):
        LinearForecaster(48, 12, norm="median")
    with pytest.raises(ValueError, match="maps 48 -> 12 steps; the windows are 24 -> 12"):
        LinearForecaster(48, 12).fit(Windows(wave[:, None], seq_len=24, pred_len=12))
