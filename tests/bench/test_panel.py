"""The defaults panel: splits, seasonal-naive backtests, scores, and benchmarks/defaults.py."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from bench_scripts import load_script

from s4ts.bench import panel
from s4ts.bench.panel import PanelSpec, score_backtest, seasonal_naive_backtest, split_for

DAYS = pd.date_range("2020-01-01", periods=16, freq="D")


def _frame(**series: list[float]) -> pd.DataFrame:
    """Daily long frame from 2020-01-01, one series per keyword; NaN values become missing rows."""
    parts = [pd.DataFrame({"unique_id": uid, "ds": DAYS[: len(y)], "y": y}) for uid, y in series.items()]
    return pd.concat(parts, ignore_index=True).dropna(subset="y").reset_index(drop=True)


def _spec(horizon: int, season: int, n_windows: int, step: int | None = None) -> PanelSpec:
    return PanelSpec("toy", lambda: None, horizon, season, "D", n_windows=n_windows, step=step)


def test_split_for_leaves_the_test_block_out_of_validation():
    ramp = list(np.arange(1.0, 13.0))
    gap = ramp[:10] + [np.nan, 12.0]  # a missing day inside the test block
    df = _frame(a=ramp, gap=gap, short=ramp[:10])
    before = df.copy()
    spec = _spec(horizon=2, season=3, n_windows=2, step=1)  # block of 3 steps, min history 5
    test, val = split_for(spec, df, "test"), split_for(spec, df, "validation")
    pd.testing.assert_frame_equal(df, before)  # the user's frame is untouched
    # "short" (10 steps < 2 blocks + 5) is in neither split; the gap is a row of NaN.
    assert sorted(test["unique_id"].unique()) == sorted(val["unique_id"].unique()) == ["a", "gap"]
    assert (test.groupby("unique_id").size() == 12).all()
    assert np.isnan(test.loc[test["unique_id"] == "gap", "y"].iloc[10])
    assert (val.groupby("unique_id").size() == 9).all()
    val_forecasts = seasonal_naive_backtest(val, spec)
    test_forecasts = seasonal_naive_backtest(test, spec)
    assert val_forecasts["ds"].max() == DAYS[8] < test_forecasts["ds"].min() == DAYS[9]
    assert test_forecasts["cutoff"].min() == DAYS[8]  # the first test cutoff ends validation
    with pytest.raises(ValueError, match="split='train' must be one of"):
        split_for(spec, df, "train")
    with pytest.raises(ValueError, match="no series of toy is long enough"):
        split_for(_spec(horizon=6, season=3, n_windows=2), df, "test")


def test_early_validation_is_the_block_before_validation():
    long, short = list(np.arange(1.0, 17.0)), list(np.arange(1.0, 13.0))
    df = _frame(long=long, short=short)
    spec = _spec(horizon=2, season=3, n_windows=2, step=1)  # block of 3 steps, min history 5
    early, val = split_for(spec, df, "early_validation"), split_for(spec, df, "validation")
    # "short" has 6 steps before validation's first cutoff: enough for validation and test,
    # not for a third block after 5 steps of history; it stays in the later two splits.
    assert sorted(val["unique_id"].unique()) == ["long", "short"]
    assert list(early["unique_id"].unique()) == ["long"] and len(early) == 16 - 2 * 3
    early_forecasts = seasonal_naive_backtest(early, spec)
    val_forecasts = seasonal_naive_backtest(val[val["unique_id"] == "long"], spec)
    assert early_forecasts["ds"].max() == DAYS[9] < val_forecasts["ds"].min() == DAYS[10]
    with pytest.raises(ValueError, match="early validation, validation and test blocks"):
        split_for(spec, _frame(short=short), "early_validation")


def test_seasonal_naive_backtest_repeats_the_last_season_before_each_cutoff():
    ramp = list(np.arange(1.0, 13.0))
    gap = [*ramp[:5], np.nan, *ramp[6:]]  # day 6 missing: its phase falls back one season
    spec = _spec(horizon=3, season=3, n_windows=2, step=1)
    got = seasonal_naive_backtest(_frame(a=ramp, g=gap), spec)
    # Cutoffs at positions 7 and 8 (the last one horizon=3 steps before the end).
    expected = pd.DataFrame({
        "unique_id": ["a"] * 6 + ["g"] * 6,
        "ds": DAYS[[8, 9, 10, 9, 10, 11] * 2],
        "cutoff": DAYS[[7] * 3 + [8] * 3 + [7] * 3 + [8] * 3],
        "y": [9.0, 10, 11, 10, 11, 12] * 2,
        "y_pred": [6.0, 7, 8, 7, 8, 9, 3, 7, 8, 7, 8, 9],  # g: day 6 -> day 3's value
    })
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    with pytest.raises(ValueError, match="series 'a' of toy has 12 steps, too few"):
        seasonal_naive_backtest(_frame(a=ramp), _spec(horizon=3, season=10, n_windows=1))


def test_score_backtest_on_a_hand_made_frame():
    df = _frame(a=[1.0, 2, 4, 5, 7], z=[3.0, 3, 3, 3, 5])
    spec = _spec(horizon=2, season=1, n_windows=1)
    forecasts = pd.DataFrame({
        "unique_id": ["a", "a", "a", "a", "z", "z"],
        "ds": DAYS[[2, 3, 3, 4, 3, 4]],
        "cutoff": DAYS[[1, 1, 2, 2, 2, 2]],
        "y": [np.nan, np.nan, 5.0, 7.0, 3.0, 5.0],  # a's first window has no truth: skipped
        "y_pred": [0.0, 0.0, 6.0, 6.0, 3.0, 3.0],
        "y_q0.1": [0.0, 0.0, 4.0, 6.5, 3.0, 3.0],
        "y_q0.5": [0.0, 0.0, 6.0, 6.0, 3.0, 3.0],
        "y_q0.9": [0.0, 0.0, 5.5, 8.0, 3.0, 3.0],
    })
    scores = score_backtest(forecasts, df, spec)
    # a: history [1, 2, 4] up to its cutoff, naive scale (1 + 2) / 2 = 1.5, MAE 1.
    # z: constant history, scale 0: left out of MASE and counted.
    assert scores["mase"] == pytest.approx(1 / 1.5)
    assert (scores["n_series"], scores["n_zero_scale"], scores["n_windows"]) == (1, 1, 1)
    assert scores["mae"] == pytest.approx((1 + 1 + 0 + 2) / 4)
    assert scores["smape"] == pytest.approx(100 * (2 / 11 + 2 / 13 + 0 + 4 / 8) / 4)
    pinball = (0.1 + 0.5 + 0.05) + (0.05 + 0.5 + 0.1)  # levels 0.1, 0.5, 0.9 at y=5 and y=7
    assert scores["scaled_ql"] == pytest.approx(pinball / 6 / 1.5)
    assert scores["scaled_crps"] == pytest.approx(2 * pinball / 6 / 1.5)
    assert scores["coverage_80"] == pytest.approx(3 / 4)  # z's 5 is outside [3, 3]
    point = score_backtest(forecasts[["unique_id", "ds", "cutoff", "y", "y_pred"]], df, spec)
    assert "coverage_80" not in point and "scaled_ql" not in point
    with pytest.raises(ValueError, match="cutoff .* of series 'a' is not in df"):
        score_backtest(forecasts.assign(cutoff=DAYS[11]), df, spec)
    with pytest.raises(ValueError, match=r"lack column\(s\) \['y_pred'\]"):
        score_backtest(forecasts.drop(columns="y_pred"), df, spec)


def test_panel_holds_the_datasets_of_the_brief():
    assert list(panel.PANEL) == ["vic_elec", "ETTh1", "ETTh2", "us_gasoline", "aus_retail",
                                 "tourism", "pedestrian", "bank_calls"]
    assert panel.get_spec("BANK_CALLS").season == 169
    assert panel.PANEL["vic_elec"].futr_exog == ("temperature", "holiday")
    with pytest.raises(ValueError, match="unknown panel dataset 'm4'"):
        panel.get_spec("m4")


def test_subsample_is_deterministic_and_spread():
    df = _frame(**{f"s{i}": [1.0, 2.0] for i in range(5)})
    assert sorted(panel.subsample(df, 3)["unique_id"].unique()) == ["s0", "s2", "s4"]
    assert panel.subsample(df, None) is df


# ---------------------------------------------------------------- benchmarks/defaults.py


@pytest.fixture(scope="module")
def script():
    return load_script("defaults.py")


def test_config_parsing(script):
    allowed = {"d_model", "quantiles", "mode", "calendar_features", "context_length", "horizon"}
    name, overrides = script.parse_config(
        "big:d_model=128,quantiles=(0.05,0.5,0.95),mode=diag,calendar_features=true,"
        "context_length=None", allowed)
    assert name == "big"
    assert overrides == {"d_model": 128, "quantiles": (0.05, 0.5, 0.95), "mode": "diag",
                         "calendar_features": True, "context_length": None}
    for text, message in [("big", "must be NAME:key=value"), ("b:horizon=3", "set by the panel"),
                          ("b:depth=3", "'depth' is not an S4Forecaster parameter")]:
        with pytest.raises(ValueError, match=message):
            script.parse_config(text, allowed)


def _toy_panel() -> pd.DataFrame:
    """Three daily series with a weekly pattern; s0 misses a day of its history."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2021-01-04", periods=120, freq="D")
    parts = []
    for i in range(3):
        y = 10 + i + np.sin(2 * np.pi * np.arange(120) / 7) + 0.1 * rng.standard_normal(120)
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": days, "y": y}))
    df = pd.concat(parts, ignore_index=True)
    return df.drop(index=50).reset_index(drop=True)  # s0 misses a day (s0, s2 are sampled)


def test_tiny_run_prints_tables_and_json(script, monkeypatch, tmp_path, capsys):
    toy = PanelSpec("toy", _toy_panel, horizon=4, season=7, freq="D", n_windows=2)
    monkeypatch.setitem(panel.PANEL, "toy", toy)
    assert script.main([
        "--datasets", "toy", "--max-series", "2", "--threads", "1", "--out", str(tmp_path),
        "--common", "max_epochs=1,batches_per_epoch=2",
        "--config", "tiny:d_model=8,n_layers=1,d_state=8",
    ]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    final = json.loads(out[-1])
    assert final["split"] == "validation" and set(final["summary"]) == {"default", "tiny"}
    assert all(s["n_datasets"] == 1 for s in final["summary"].values())
    text = "\n".join(out)
    assert "### toy (validation): 2 series" in text and "| seasonal naive |" in text
    full = json.loads((tmp_path / "defaults_validation.json").read_text())
    (record,) = full["datasets"]
    assert record["n_series"] == 2
    for result in record["configs"].values():
        assert np.isfinite(result["mean"]["mase"]) and 0 <= result["mean"]["coverage_80"] <= 1
        (run,) = result["seeds"]  # the fitted model's epochs: max_epochs=1, validation held out
        assert run["n_epochs"] == 1 and run["best_epoch"] in (0, 1)
    assert (tmp_path / "defaults_validation.md").read_text().startswith("### toy")
