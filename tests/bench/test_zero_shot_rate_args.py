"""benchmarks/zero_shot_rate.py refuses bad options before loading any data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from bench_scripts import load_script, usage_error

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "zero_shot_rate.py"


@pytest.mark.parametrize("options, message", [
    (["--dt-per-hour", "0.2", "0.002"], "--dt-per-hour needs 0 < MIN <= MAX"),
    (["--dt-per-hour", "0", "0.2"], "--dt-per-hour needs 0 < MIN <= MAX"),
    (["--seeds", "0"], "--seeds and --threads >= 1"),
    (["--threads", "0"], "--seeds and --threads >= 1"),
    (["--val-days", "-1"], "--val-days must be >= 0"),
])
def test_bad_options_exit_with_a_usage_error(options, message, capsys):
    assert message in usage_error(load_script("zero_shot_rate.py"), options, capsys)


def test_a_tiny_run_reaches_its_json_line():
    # Keeps the script in step with the estimator's attributes (it once read a removed one).
    pytest.importorskip("tsdata")
    options = ["--epochs", "1", "--batches", "1", "--seeds", "1", "--test-days", "3", "--threads", "1"]
    result = subprocess.run([sys.executable, str(SCRIPT), *options], check=False, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"zero_shot_over_retrained"' in result.stdout.splitlines()[-1]
