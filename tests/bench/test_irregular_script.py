"""benchmarks/irregular.py --quick: every contender forecasts every asked time, and the JSON holds the targets."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from bench_scripts import BENCHMARKS, load_script, usage_error

pytest.importorskip("statsforecast", reason="AutoETS and NHITS come from the peers extra")
pytest.importorskip("neuralforecast", reason="AutoETS and NHITS come from the peers extra")


@pytest.mark.timeout(300)
def test_irregular_quick_run(tmp_path):
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "irregular.py"), "--quick", "--datasets", "vic_elec", "pedestrian",
         "--removed", "0", "0.6", "--forecasts", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=280, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    final = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(final["mae"]) == {"vic_elec 0%", "vic_elec 60%", "pedestrian 0%"}
    for scores in final["mae"].values():
        assert set(scores) == {"S4 irregular", "S4 binned", "S4 interpolated", "AutoETS", "NHITS"}
        assert all(value > 0 for value in scores.values())
    assert set(final["targets"]["lowest_mae"]) == {"vic_elec 0%", "vic_elec 60%"}
    assert set(final["targets"]["outage60_over_complete"]) == {"vic_elec"}
    record = json.loads((tmp_path / "irregular.json").read_text())
    settings = {(r["dataset"], r["removed"]): r for r in record["records"]}
    # 60% removed in bursts: about 40% of the observations stay.
    kept = settings[("vic_elec", 0.6)]["observations"] / settings[("vic_elec", 0.0)]["observations"]
    assert 0.35 < kept < 0.45
    assert "| S4 irregular |" in (tmp_path / "irregular.md").read_text()
    assert "MAE by wait" in (tmp_path / "irregular.md").read_text()
    waits = settings[("vic_elec", 0.6)]["models"]["S4 irregular"]["by_wait"]
    assert sum(g["n"] for g in waits) == settings[("vic_elec", 0.6)]["asked"] and "coverage" in waits[0]
    written = pd.read_csv(tmp_path / "forecasts_vic_elec_60pct_S4_irregular.csv")
    assert len(written) == settings[("vic_elec", 0.6)]["asked"] and {"cutoff", "y", "y_pred"} <= set(written)


def test_bad_options_are_usage_errors(capsys):
    script = load_script("irregular.py")
    assert "--removed shares must be in [0, 1)" in usage_error(script, ["--removed", "1.0"], capsys)
    assert "--windows must be 1..14" in usage_error(script, ["--windows", "0"], capsys)
    assert "'val_sise' is not an S4Forecaster parameter" in usage_error(
        script, ["--irregular-set", "val_sise=720"], capsys)
    assert "--irregular-set: ['time_grid'] are set by the contender" in usage_error(
        script, ["--irregular-set", "time_grid=regular"], capsys)
    assert "--binned-set: ['freq'] are set by the contender" in usage_error(script, ["--binned-set", "freq=h"], capsys)
    assert "'contxt_length' is not an S4Forecaster parameter" in usage_error(
        script, ["--binned-set", "contxt_length=96"], capsys)
    assert "--forecasts writes into --out" in usage_error(script, ["--forecasts"], capsys)


def test_s4_irregular_skips_a_window_whose_day_was_lost_in_an_outage():
    """With 60% removed in bursts, a whole asked day can be empty; the irregular contender then
    forecasts the other windows (its model needs X_future rows for every series it is given)."""
    from s4ts.bench import irregular as proto

    script = load_script("irregular.py")
    rng = np.random.default_rng(0)
    start = pd.Timestamp("2020-01-01")
    times = start + pd.to_timedelta(np.sort(rng.uniform(0, 20 * 86400, 900)), unit="s")
    frame = pd.DataFrame({"unique_id": "a", "ds": times, "y": np.sin(np.arange(900) / 7.0)})
    cuts = [start + pd.Timedelta(days=d) for d in (16, 17, 18)]
    frame = frame[(frame["ds"] <= cuts[1]) | (frame["ds"] > cuts[1] + pd.Timedelta("1D"))]
    asked = proto.asked_windows(frame, cuts)
    assert set(asked["cutoff"]) == {cuts[0], cuts[2]}
    out = script.s4_irregular(frame, cuts, asked, proto.SPECS["vic_elec"], 0, True)
    assert len(out) == len(asked) and out["y_pred"].notna().all()


@pytest.mark.timeout(300)
def test_the_validation_split_is_recorded_and_scores_other_days(tmp_path):
    args = ["--quick", "--datasets", "pedestrian", "--models", "AutoETS", "--windows", "2"]
    runs = {}
    for split in ("test", "validation"):
        done = subprocess.run([sys.executable, str(BENCHMARKS / "irregular.py"), *args, "--split", split,
                               "--out", str(tmp_path / split)], capture_output=True, text=True, timeout=140,
                              check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        runs[split] = json.loads((tmp_path / split / "irregular.json").read_text())
    assert runs["validation"]["split"] == "validation" and runs["test"]["split"] == "test"
    # Other days, so other scores; both runs score the same model.
    assert runs["validation"]["mae"]["pedestrian 0%"]["AutoETS"] != runs["test"]["mae"]["pedestrian 0%"]["AutoETS"]


def test_binned_settings_reach_the_binned_s4_contenders(monkeypatch):
    from s4ts.bench import irregular as proto

    script = load_script("irregular.py")
    made = []

    class Fitted(Exception):
        pass

    class Recorder:
        def __init__(self, **kwargs):
            made.append(kwargs)

        def fit(self, frame):
            raise Fitted

    monkeypatch.setattr(script, "S4Forecaster", Recorder)
    times = pd.date_range("2020-01-01", periods=96, freq="h")
    frame = pd.DataFrame({"unique_id": "a", "ds": times, "y": np.arange(96.0)})
    with pytest.raises(Fitted):
        script.RUNNERS["S4 interpolated"](frame, [times[-24]], frame.iloc[-3:], proto.SPECS["ETTh1"], 0, False,
                                          settings={"context_length": 96})
    assert made[0]["context_length"] == 96 and made[0]["freq"] == "h"
