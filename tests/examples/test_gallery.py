"""The gallery examples run end to end with tiny budgets (--quick) and write their outputs.

Their full runs (the figures in docs/figures/) come from `make figures`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest
from script_modules import load_module

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str, *argv: str) -> int:
    """The script's main(argv) in this process; the logger levels it sets are restored."""
    module = load_module(EXAMPLES / f"{name}.py", f"example_{name}")
    lightning_log = logging.getLogger("lightning.pytorch")
    level = lightning_log.level
    try:
        return module.main(list(argv))
    finally:
        lightning_log.setLevel(level)


def is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_forecast_csv_reads_a_csv_and_writes_a_year_ahead(tmp_path):
    assert run_example("forecast_csv", "--quick", "--out", str(tmp_path)) == 0
    forecast = pd.read_csv(tmp_path / "forecast.csv")
    assert len(forecast) == 52 and {"y_pred", "y_q0.1", "y_q0.9"} <= set(forecast.columns)
    assert is_png(tmp_path / "forecast.png")


@pytest.mark.slow
def test_irregular_example_forecasts_at_the_asked_times(tmp_path):
    assert run_example("irregular_timestamps", "--quick", "--out", str(tmp_path)) == 0
    forecast = pd.read_csv(tmp_path / "forecast.csv", parse_dates=["ds"])
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert len(forecast) == scores["asked"] > 0 and forecast["ds"].is_monotonic_increasing
    assert forecast["y_pred"].notna().all() and 0 <= scores["coverage_80"] <= 1
    assert is_png(tmp_path / "irregular.png")


@pytest.mark.slow
def test_zero_shot_rate_example_scores_three_ways(tmp_path):
    assert run_example("zero_shot_rate", "--quick", "--out", str(tmp_path)) == 0
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert len(scores) == 3 and all(v > 0 for v in scores.values())
    assert is_png(tmp_path / "rates.png")


@pytest.mark.slow
def test_streaming_example_updates_and_reforecasts(tmp_path):
    assert run_example("streaming_updates", "--quick", "--out", str(tmp_path)) == 0
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores["update_ms"] > 0 and len(scores["mae_rest_of_day_first_last"]) == 2
    # Each shown forecast runs to the next midnight: 08:00 .. 24:00 is 33 half-hours.
    assert scores["shown_forecast_steps"] == {"00:00": 48, "08:00": 33, "16:00": 17}
    assert is_png(tmp_path / "streaming.png")


@pytest.mark.slow
def test_speech_example_classifies_generated_words(tmp_path):
    from s4ts.datasets.spoken_words import espeak_available

    if not espeak_available():
        pytest.skip("espeak-ng is not installed: datasets/spoken_words/install_deps.sh (CI runs it)")
    assert run_example("classify_speech", "--quick", "--out", str(tmp_path)) == 0
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert len(scores["labels"]) == 4 and 0 <= scores["accuracy"] <= 1
    assert sum(map(sum, scores["confusion"])) == scores["test_clips"]
    assert is_png(tmp_path / "confusion.png")
