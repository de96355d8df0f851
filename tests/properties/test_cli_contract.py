"""Property: `s4ts forecast` on generated CSV files writes a forecast or exits 2 with a message."""

import warnings

import pandas as pd
from contract_cases import long_frames
from hypothesis import HealthCheck, event, given, settings

from s4ts import cli

FAST = ["--horizon", "3", "--context-length", "6", "--max-epochs", "1", "--batches-per-epoch", "1", "--quiet"]


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(frame=long_frames())
def test_forecast_command_writes_a_forecast_or_a_usage_error(frame, tmp_path, capsys):
    data, out = tmp_path / "data.csv", tmp_path / "forecast.csv"
    frame.to_csv(data, index=False)
    out.unlink(missing_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            status = cli.main(["forecast", str(data), "--out", str(out), *FAST])
        except SystemExit as exit_info:
            assert exit_info.code == 2
            err = capsys.readouterr().err
            assert err.startswith("s4ts forecast: error: ") and "Traceback" not in err, err
            assert not out.exists()
            event("usage error")
            return
    assert status == 0 and len(pd.read_csv(out)) > 0
    event("forecast written")
    capsys.readouterr()

