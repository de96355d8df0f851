"""calendar_features computed in numpy agree with pandas' own calendar fields."""

import numpy as np
import pandas as pd
import pytest

from s4ts.data.windows import calendar_features


def _by_pandas(times: pd.DatetimeIndex) -> np.ndarray:
    day = (times.hour * 3600 + times.minute * 60 + times.second).to_numpy() / 86400.0
    phase = [day, (times.dayofweek.to_numpy() + day) / 7.0, (times.dayofyear.to_numpy() - 1 + day) / 365.25]
    angles = 2 * np.pi * np.stack(phase, axis=1)
    return np.stack([np.sin(angles), np.cos(angles)], axis=2).reshape(len(times), 6)


@pytest.mark.parametrize("tz", [None, "Australia/Melbourne", "America/New_York"])
def test_numpy_calendar_matches_pandas_fields(tz):
    rng = np.random.default_rng(0)
    seconds = rng.integers(-40 * 365 * 86400, 60 * 365 * 86400, size=5000)  # 1930 to 2030
    times = pd.DatetimeIndex(pd.to_datetime(seconds, unit="s")).sort_values()
    if tz is not None:
        times = times.tz_localize("UTC").tz_convert(tz)
    np.testing.assert_allclose(calendar_features(times), _by_pandas(times), atol=1e-12)
    np.testing.assert_allclose(calendar_features(times, ("week",)), _by_pandas(times)[:, 2:4], atol=1e-12)
