"""benchmarks/classify_panel.py --quick: every contender runs and the JSON holds the panel summary."""

import json
import subprocess
import sys

import pytest
from bench_scripts import BENCHMARKS

pytest.importorskip("aeon", reason="the panel's baselines come from aeon (the bench extra)")


@pytest.mark.timeout(400)
def test_classify_panel_quick_run(tmp_path):
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "classify_panel.py"), "--quick", "--long", "--long-pretrain", "256",
         "--long-continue-set", "max_epochs=2", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=380, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    final = json.loads(done.stdout.strip().splitlines()[-1])
    problems = ["ItalyPowerDemand", "JapaneseVowels", "LongOrder16384"]
    assert list(final["s4_train_s"]) == problems
    assert set(final["mean_accuracy"]) == {"S4Classifier", "MiniRocket"}
    assert all(0 <= v <= 1 for v in final["mean_accuracy"].values())
    # the two log-losses: with the fitted temperature and at temperature 1
    assert all(len(pair) == 2 and min(pair) > 0 for pair in final["s4_log_loss"].values())
    record = json.loads((tmp_path / "classify_panel.json").read_text())
    # numba's OpenMP pool beside torch's slowed the next S4 fit 2-5x: the rockets ran on workqueue
    assert record["numba_threading_layer"] == "workqueue"
    assert record["versions"]["aeon"] != "not installed" and "classify_panel.py" in record["command"]
    assert "| mean rank |" in (tmp_path / "classify_panel.md").read_text()
    # the long problem's S4Classifier learned on short draws first, then continued (3 + 2 epochs
    # for each of the two members)
    long = record["results"]["LongOrder16384"]["S4Classifier"]
    assert long["pretrain_s"] > 0 and long["epochs"] == 2 * (3 + 2)
    assert record["long_continue_set"] == {"max_epochs": 2}


def test_s4_settings_are_classifier_arguments(capsys):
    from bench_scripts import load_script, usage_error

    panel = load_script("classify_panel.py")
    assert panel.s4_settings("n_estimators=1, max_time=1200,mode=dplr") == {
        "n_estimators": 1, "max_time": 1200, "mode": "dplr"}
    assert panel.s4_settings("") == {}
    assert "'horizon' is not an S4Classifier argument" in usage_error(panel, ["--s4-set", "horizon=3"], capsys)
    assert "random_state is --seed" in usage_error(panel, ["--s4-set", "random_state=1"], capsys)
    assert "'n_estimators' is not key=value" in usage_error(panel, ["--s4-set", "n_estimators"], capsys)
    assert "needs at least 256 steps" in usage_error(panel, ["--long", "--long-length", "100"], capsys)
    assert "--long-pretrain 100: the long task needs at least 256" in usage_error(
        panel, ["--long", "--long-pretrain", "100"], capsys)
    assert "after --long-pretrain; give both" in usage_error(
        panel, ["--long-continue-set", "max_epochs=2"], capsys)
    assert "--long-continue-set: 'horizon' is not" in usage_error(
        panel, ["--long-pretrain", "512", "--long-continue-set", "horizon=3"], capsys)
