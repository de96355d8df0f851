"""The Informer protocol: split borders, windows, and one tiny end-to-end run on ETTh1."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from s4ts.bench import informer
from s4ts.bench.baselines import LinearForecaster
from s4ts.bench.models import (
    NORMS,
    Ensemble,
    LinearPath,
    S4Informer,
    Windows,
    normalise_context,
)
from s4ts.datasets import get_dataset


def test_ett_hourly_borders_follow_informer():
    borders = informer.split_borders(get_dataset("ETTh1"), 17420, seq_len=96)
    month = 30 * 24
    assert borders == [(0, 12 * month), (12 * month - 96, 16 * month),
                       (16 * month - 96, 20 * month)]


def test_ett_minute_and_ratio_borders():
    minute = informer.split_borders(get_dataset("ETTm1"), 69680, seq_len=96)
    assert minute[2] == (16 * 30 * 24 * 4 - 96, 20 * 30 * 24 * 4)
    ratio = informer.split_borders(get_dataset("Weather"), 1000, seq_len=10)
    assert ratio == [(0, 700), (690, 800), (790, 1000)]


def test_short_file_and_long_context_are_rejected():
    with pytest.raises(ValueError, match="20 months"):
        informer.split_borders(get_dataset("ETTh2"), 10000, seq_len=96)
    with pytest.raises(ValueError, match="seq_len=800"):
        informer.split_borders(get_dataset("Weather"), 1000, seq_len=800)


def test_windows_cover_every_stride_one_window():
    data = np.arange(20, dtype=np.float32)[:, None]  # (T, 1)
    windows = Windows(data, seq_len=5, pred_len=3)
    assert windows.count == 13
    x, marks, y = windows.batch(torch.tensor([0, 12]))
    assert x[1, :, 0].tolist() == [12, 13, 14, 15, 16]
    assert y[1, :, 0].tolist() == [17, 18, 19]
    assert marks is None
    marked = Windows(data, seq_len=5, pred_len=3, marks=-data)
    _, marks, _ = marked.batch(torch.tensor([12]))
    assert marks[0, :, 0].tolist() == [-v for v in range(12, 20)]  # context and horizon steps
    with pytest.raises(ValueError, match="marks has 19 rows"):
        Windows(data, seq_len=5, pred_len=3, marks=data[1:])


def test_models_map_context_to_horizon():
    x = torch.randn(3, 32, 2)  # (B, L, C)
    assert LinearForecaster(32, 8)(x).shape == (3, 8, 2)
    marks = torch.randn(3, 40, 6)  # (B, L + H, F)
    for independent in (True, False):
        model = S4Informer(2, 8, channel_independent=independent, d_model=8, n_layers=1,
                           d_state=4)
        assert model(x).shape == (3, 8, 2)
        marked = S4Informer(2, 8, channel_independent=independent, d_model=8, n_layers=1,
                            d_state=4, n_marks=6).eval()
        assert marked(x, marks).shape == (3, 8, 2)
        # calendar="week" reads the first 4 of the 6 columns (time of day and day of week).
        weekly = S4Informer(2, 8, channel_independent=independent, d_model=8, n_layers=1,
                            d_state=4, n_marks=4).eval()
        torch.testing.assert_close(weekly(x, marks), weekly(x, marks[..., :4]))
        # The forecast depends on the calendar of its steps.
        assert not torch.allclose(marked(x, marks), marked(x, marks.flip(1)))
        with pytest.raises(ValueError, match="needs marks"):
            marked(x)
        # The linear path starts at zero (the plain S4 forecast), then adds a linear forecast.
        plain = S4Informer(2, 8, channel_independent=independent, d_model=8, n_layers=1,
                           d_state=4).eval()
        linear = S4Informer(2, 8, channel_independent=independent, d_model=8, n_layers=1,
                            d_state=4, linear_context=32).eval()
        linear.backbone.load_state_dict(plain.backbone.state_dict())
        torch.testing.assert_close(linear(x), plain(x))
        with torch.no_grad():
            linear.linear.bias.fill_(1.0)
        torch.testing.assert_close(linear(x), plain(x) + 1.0)
        with pytest.raises(ValueError, match="linear path reads 32"):
            linear(x[:, :16])


def run_tiny_etth1(tmp_path: Path, *options: str) -> dict:
    """Run `s4ts bench informer` on ETTh1 S, H=24, with a tiny model; return its JSON record."""
    data = os.environ.get("S4TS_DATA")
    if not data or not (Path(data) / "ETTh1.csv").is_file():
        pytest.skip("ETTh1.csv not found: set S4TS_DATA to the folder holding the ETT CSVs")
    parser = argparse.ArgumentParser()
    informer.add_arguments(parser)
    args = parser.parse_args([
        "--dataset", "ETTh1", "--features", "S", "--horizons", "24", "--epochs", "1",
        "--d-model", "8", "--n-layers", "1", "--d-state", "8",
        "--out", str(tmp_path / "out"), "--json", str(tmp_path / "r.json"), *options,
    ])
    assert "Command:" in informer.run(args)
    (record,) = json.loads((tmp_path / "r.json").read_text())
    return record


def test_end_to_end_tiny_run(tmp_path: Path):
    record = run_tiny_etth1(tmp_path, "--seq-len", "48", "--max-train-windows", "128")
    assert record["horizon"] == 24 and record["test_windows"] == 16 * 720 - 24 - 12 * 720 + 1
    for key in ("ours_mse", "ours_mae", "linear_mse", "linear_mae"):
        assert np.isfinite(record[key]) and record[key] > 0
    # A broken pipeline (unscaled data, misaligned targets) lands far above these values.
    assert record["ours_mse"] < 1.0 and record["linear_mse"] < 1.0
    assert (record["s4_paper_mse"], record["informer_mse"]) == (0.061, 0.098)
    table = (tmp_path / "out" / "informer_ETTh1_S.md").read_text()
    assert "| ETTh1 | S | 24 | 48 |" in table
    assert (tmp_path / "out" / "informer_ETTh1_S.csv").is_file()


def test_search_picks_by_validation_and_ensembles(tmp_path: Path):
    record = run_tiny_etth1(
        tmp_path, "--search", "seq_len=24,48", "calendar=week", "linear=true", "--ensemble", "2",
        "--max-train-windows", "64", "--max-val-windows", "64",
    )
    trials = record["search"]
    assert [(t["seq_len"], t["calendar"], t["linear"]) for t in trials] == [
        (24, "week", True), (48, "week", True)]
    best = min(trials, key=lambda t: t["val_mse"])
    assert record["selected"] == {"seq_len": best["seq_len"], "calendar": "week", "linear": True}
    assert record["seq_len"] == best["seq_len"] and record["ensemble"] == 2
    assert record["linear_seq_len"] in (24, 48) and record["linear_norm"] in NORMS
    assert np.isfinite(record["ours_mse"]) and record["ours_mse"] < 1.0
    # The linear path alone is scored too, so S4's share of the forecast is on record.
    assert np.isfinite(record["ours_linear_path_mse"]) and record["ours_linear_path_mse"] < 1.0
    assert record["ours_linear_path_mse"] != record["ours_mse"]


def test_search_grid_parsing():
    grid = informer.parse_search(["seq_len=96,336", "calendar=none,week", "bidirectional=true"])
    assert grid == {"seq_len": [96, 336], "calendar": ["none", "week"], "bidirectional": [True]}
    assert len(informer.candidates(grid)) == 4 and informer.candidates({}) == [{}]
    assert informer.parse_search(["max_train_windows=0,500"]) == {"max_train_windows": [None, 500]}
    assert informer.parse_search(["norm=last,mean", "mode=dplr"]) == {
        "norm": ["last", "mean"], "mode": ["dplr"]}
    for bad in (["seq_len"], ["colour=red"], ["seq_len=abc"], ["dropout="], ["calendar=true"],
                ["norm=median"], ["mode=s5"]):
        with pytest.raises(ValueError, match="--search"):
            informer.parse_search(bad)


def test_ensemble_must_have_a_member(tmp_path: Path):
    parser = argparse.ArgumentParser()
    informer.add_arguments(parser)
    args = parser.parse_args(["--ensemble", "0", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="--ensemble must be at least 1"):
        informer.run(args)


def test_ensemble_averages_members():
    x = torch.randn(2, 16, 1)
    members = [S4Informer(1, 4, d_model=8, n_layers=1, d_state=4).eval() for _ in range(2)]
    expected = (members[0](x) + members[1](x)) / 2
    torch.testing.assert_close(Ensemble(members)(x), expected)


def test_linear_path_starts_from_least_squares():
    # A series that a linear forecaster predicts exactly: a sum of two sinusoids.
    t = np.arange(400)
    data = (np.sin(2 * np.pi * t / 24) + 0.5 * np.sin(2 * np.pi * t / 7))[:, None]
    windows = Windows(data, seq_len=48, pred_len=12)
    model = S4Informer(1, 12, d_model=8, n_layers=1, d_state=4, linear_context=48)
    model.fit_linear_path(windows, ridge=1e-6)
    x, _, y = windows.batch(torch.arange(windows.count))
    z, shift, _ = normalise_context(x, model.norm)
    linear_only = model.linear(z.transpose(1, 2)).transpose(1, 2) + shift
    assert (linear_only - y).abs().max() < 1e-3
    # A joint (not channel-independent) model fits the same map: it is shared by the channels.
    pair = Windows(np.concatenate([data, 2 * data], axis=1), seq_len=48, pred_len=12)
    joint = S4Informer(2, 12, channel_independent=False, d_model=8, n_layers=1, d_state=4,
                       linear_context=48)
    joint.fit_linear_path(pair, ridge=1e-6)
    torch.testing.assert_close(joint.linear.weight, model.linear.weight, atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="no linear path"):
        S4Informer(1, 12, d_model=8, n_layers=1, d_state=4).fit_linear_path(windows)


def test_linear_baseline_is_the_least_squares_forecast():
    # Two channels that a linear map of the context predicts exactly, one with a level offset.
    t = np.arange(400)
    wave = np.sin(2 * np.pi * t / 24) + 0.5 * np.sin(2 * np.pi * t / 7)
    windows = Windows(np.stack([wave, 3.0 + wave], axis=1), seq_len=48, pred_len=12)
    x, _, y = windows.batch(torch.arange(windows.count))  # (B, 48, 2), _, (B, 12, 2)
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


def test_linear_forecast_is_the_model_without_s4():
    x = torch.randn(3, 32, 2)  # (B, L, C)
    for independent in (True, False):
        model = S4Informer(2, 8, channel_independent=independent, d_model=8, n_layers=1,
                           d_state=4, linear_context=32).eval()
        with torch.no_grad():
            model.linear.weight.normal_()
        full, alone = model(x), model.linear_forecast(x)  # (B, H, C) each
        assert alone.shape == (3, 8, 2) and not torch.allclose(full, alone)
        with torch.no_grad():  # silence S4: the full forecast becomes the linear path's
            model.backbone.decoder.weight.zero_()
            model.backbone.decoder.bias.zero_()
        torch.testing.assert_close(model(x), alone)
        other = S4Informer(2, 8, channel_independent=independent, d_model=8, n_layers=1,
                           d_state=4, linear_context=32).eval()
        expected = (alone + other.linear_forecast(x)) / 2
        torch.testing.assert_close(Ensemble([LinearPath(model), LinearPath(other)])(x), expected)
    with pytest.raises(ValueError, match="no linear path"):
        S4Informer(2, 8, d_model=8, n_layers=1, d_state=4).linear_forecast(x)
