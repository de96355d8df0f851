"""benchmarks/scaling.py --quick: every measurement runs and the JSON holds the issue's keys."""

import json
import subprocess
import sys

import pytest
from bench_scripts import BENCHMARKS


@pytest.mark.timeout(300)
def test_scaling_quick_run():
    done = subprocess.run([sys.executable, str(BENCHMARKS / "scaling.py"), "--quick"],
                          capture_output=True, text=True, timeout=280, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    final = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"history_slope", "series_slope", "predict_1e6_steps_s", "predict_10k_series_s", "update_ms"} <= set(final)
    assert [r["steps"] for r in final["history"]] == [1000, 10000]
    assert [r["series"] for r in final["series"]] == [10, 100]
    assert final["update_ms"] > 0 and final["training_windows_per_s"]["S4Forecaster"] > 0
