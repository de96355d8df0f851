"""benchmarks/peers.py: option checks, the helpers that put peers on the panel's windows, and
the --quick smoke run (statsforecast and NeuralForecast from the `peers` extra) with --reuse."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from bench_scripts import load_script, usage_error

from s4ts.bench import panel


@pytest.fixture(scope="module")
def script():
    return load_script("peers.py")


@pytest.mark.parametrize("options, message", [
    (["--models", "Prophet"], "unknown model(s) ['Prophet']"),
    (["--max-steps", "0"], "--max-steps must be positive"),
    (["--stats-timeout", "-1"], "--stats-timeout must be positive"),
    (["--datasets", "m4"], "unknown panel dataset 'm4'"),
    (["--reuse", "no/such/peers.json"], "--reuse no/such/peers.json: not a peers.json"),
])
def test_bad_options_exit_with_a_usage_error(script, capsys, options, message):
    assert message in usage_error(script, options, capsys)


def test_peer_frame_interpolates_gaps_in_a_copy(script):
    spec = panel.get_spec("vic_elec")
    frame = pd.DataFrame({"unique_id": ["a"] * 4 + ["b"] * 3, "ds": list(range(4)) + list(range(3)),
                          "y": [1.0, np.nan, 3.0, np.nan, np.nan, 5.0, 7.0],
                          "temperature": [1, 2, 3, 4, 5, 6, 7], "holiday": [True, False] * 3 + [True],
                          "extra": list("abcdefg")})
    before = frame.copy()
    data = script.peer_frame(frame, spec)
    assert data["y"].tolist() == [1.0, 2.0, 3.0, 3.0, 5.0, 5.0, 7.0]  # not across series
    assert list(data.columns) == ["unique_id", "ds", "y", "temperature", "holiday"]
    assert data["holiday"].dtype == "float64"
    pd.testing.assert_frame_equal(frame, before)


def test_peer_forecasts_take_the_observed_truth_and_the_interval_as_quantiles(script):
    times = pd.date_range("2020-01-01", periods=2, freq="h")
    cv = pd.DataFrame({"unique_id": ["a", "a"], "ds": times, "cutoff": times[0] - pd.Timedelta("1h"),
                       "y": [9.0, 9.0], "AutoETS": [1.0, 2.0], "AutoETS-lo-80": [0.0, 1.0],
                       "AutoETS-hi-80": [2.0, 4.0]})
    truth = pd.DataFrame({"unique_id": ["a", "a"], "ds": times, "y": [1.5, np.nan]})
    out = script._as_panel_forecasts(cv, "AutoETS", truth)
    assert out["y"].tolist()[0] == 1.5 and math.isnan(out["y"].tolist()[1])
    assert out["y_pred"].tolist() == [1.0, 2.0]
    assert panel.quantile_columns(out) == {0.1: "y_q0.1", 0.5: "y_q0.5", 0.9: "y_q0.9"}
    assert out["y_q0.9"].tolist() == [2.0, 4.0]


def test_failed_models_share_the_last_ranks(script):
    results = {"A": {"mase": 0.5}, "B": {"mase": 0.9}, "SeasonalNaive": {"mase": 1.0},
               "C": {"error": "TimeoutError"}, "D": {"error": "ValueError"}}
    script._rank(results)
    assert [results[n]["rank"] for n in "AB"] == [1.0, 2.0]
    assert results["SeasonalNaive"]["rank"] == 3.0
    assert results["C"]["rank"] == results["D"]["rank"] == 4.5
    assert results["A"]["rel_mase"] == pytest.approx(0.5)


@pytest.mark.timeout(900)
def test_quick_run_scores_every_model_and_reuses_the_peers(script, tmp_path, capsys):
    pytest.importorskip("statsforecast")
    pytest.importorskip("neuralforecast")
    first = tmp_path / "first"
    assert script.main(["--quick", "--max-series", "2", "--out", str(first)]) == 0
    final = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    record = json.loads((first / "peers.json").read_text())
    assert [r["dataset"] for r in record["datasets"]] == list(script.QUICK_DATASETS)
    for dataset in record["datasets"]:
        models = dataset["models"]
        assert set(models) == {"S4Forecaster", *script.STATS, *script.NEURAL} - {"MSTL"}
        assert sorted(m["rank"] for m in models.values()) == pytest.approx(
            list(range(1, len(models) + 1)))  # no ties expected on real MASEs
        for name, m in models.items():
            assert "error" not in m, (dataset["dataset"], name, m.get("error"))
            assert m["n_series"] == 2 and m["mase"] > 0
            probabilistic = name == "S4Forecaster" or name in script.STATS
            assert ("coverage_80" in m) == probabilistic, name
            assert m.get("steps") == (5 if name in script.NEURAL else None), name  # --quick: 5 steps
        assert models["SeasonalNaive"]["rel_mase"] == 1.0
    assert set(final["summary"]) == {"S4Forecaster", *script.STATS, *script.NEURAL}
    assert set(final["s4_targets"]) >= {"best_mean_rank", "below_naive_on", "lowest_crps_on"}
    assert record["versions"]["statsforecast"] != "not installed"
    assert "| S4Forecaster |" in (first / "peers.md").read_text()

    # S4Forecaster alone, the peers taken from the first run: same peer scores, new ranks.
    second = tmp_path / "second"
    assert script.main(["--quick", "--max-series", "2", "--models", "S4Forecaster",
                        "--reuse", str(first / "peers.json"), "--out", str(second)]) == 0
    again = json.loads((second / "peers.json").read_text())
    for old, new in zip(record["datasets"], again["datasets"]):
        assert new["models"]["AutoETS"]["mase"] == old["models"]["AutoETS"]["mase"]
        assert new["models"]["AutoETS"]["reused"] is True
        assert "reused" not in new["models"]["S4Forecaster"]
        assert new["models"]["S4Forecaster"]["rank"] == old["models"]["S4Forecaster"]["rank"]
