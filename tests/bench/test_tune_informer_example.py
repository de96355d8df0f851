"""examples/tune_informer.py on ETTh1 with a tiny budget: a resumable study, a test score
beside the linear baseline (skipped without the ETT data)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("optuna", reason="the tune extra (optuna) is not installed")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tune_informer.py"


def test_tiny_study_is_tested_beside_the_baseline_and_resumes(tmp_path):
    data = os.environ.get("S4TS_DATA")
    if not data or not (Path(data) / "ETTh1.csv").is_file():
        pytest.skip("ETTh1.csv not found: set S4TS_DATA to the folder holding the ETT CSVs")
    command = [sys.executable, str(EXAMPLE), "--horizon", "24", "--max-epochs", "1", "--trial-max-time", "5",
               "--origins", "2", "--contexts", "96", "--out", str(tmp_path)]
    for n_trials in (1, 2):
        done = subprocess.run([*command, "--n-trials", str(n_trials)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["trials"] == 2  # the second run added one trial to the stored study
    assert summary["best_params"]["context_length"] == 96
    # standardised data: a working pipeline lands far below 1
    assert 0 < summary["test_mse"] < 1 and 0 < summary["linear_test_mse"] < 1
    assert (tmp_path / "history.png").is_file() and (tmp_path / "study.db").is_file()
