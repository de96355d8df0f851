"""The irregular-sampling benchmark's protocol: what each setting observes, bins and scores."""

import numpy as np
import pandas as pd
import pytest

from s4ts.bench import irregular as proto


def native(n=480, tz="Australia/Melbourne", step="30min"):
    times = pd.date_range("2014-03-20", periods=n, freq=step, tz=tz)  # crosses a DST change (Apr 6)
    return pd.DataFrame({"unique_id": "a", "ds": times, "y": np.arange(n, dtype=float)})


def test_poisson_times_have_the_mean_gap_and_no_grid():
    rng = np.random.default_rng(0)
    start, end = pd.Timestamp("2020-01-01"), pd.Timestamp("2021-01-01")
    times = proto.poisson_times(start, end, pd.Timedelta("1h"), rng)
    gaps = np.diff(times.asi8) / 3.6e12
    assert times[0] >= start and times[-1] <= end and (gaps > 0).all()
    assert abs(gaps.mean() - 1) < 0.03
    assert np.std(gaps) == pytest.approx(1, rel=0.05)  # exponential: sd = mean
    assert (times.asi8 % int(60e9) != 0).mean() > 0.99  # off every minute


def test_bursts_remove_the_share_in_runs():
    keep = proto.burst_keep(20_000, 0.3, 24, np.random.default_rng(1))
    assert abs((~keep).mean() - 0.3) < 0.01
    starts = np.flatnonzero(np.diff(keep.astype(int)) == -1)
    assert (~keep).sum() / len(starts) > 10  # removed in runs, not one by one


def test_values_are_read_off_the_native_series_and_never_across_its_gaps():
    frame = native(10, tz=None)
    frame = frame.drop(index=[5])  # a missing step between 4 and 6
    times = pd.DatetimeIndex(["2014-03-20 00:15", "2014-03-20 01:00", "2014-03-20 02:15"])
    values = proto._read_off(frame, times)
    np.testing.assert_allclose(values[:2], [0.5, 2.0])
    assert np.isnan(values[2])


def test_a_setting_keeps_the_native_values_and_removes_the_share():
    spec = proto.SPECS["vic_elec"]
    frame = native(4000)
    full = proto.make_setting(spec, frame, 0.0, seed=3)
    hours = (full["ds"] - frame["ds"].iloc[0]).dt.total_seconds() / 1800  # native steps since start
    np.testing.assert_allclose(full["y"], hours, atol=1e-6)  # y is the step index: linear
    outage = proto.make_setting(spec, frame, 0.6, seed=3)
    assert len(outage) == pytest.approx(0.4 * len(full), rel=0.03)
    assert frame["y"].iloc[-1] == 3999  # the user's frame untouched


def test_bins_hold_only_earlier_observations_and_reach_the_cutoff():
    times = pd.DatetimeIndex(["2014-04-05 23:10", "2014-04-05 23:20", "2014-04-06 01:40",
                              "2014-04-06 03:05"], tz="Australia/Melbourne")  # DST ends 3:00 -> 2:00
    frame = pd.DataFrame({"unique_id": "a", "ds": times, "y": [1.0, 3.0, 5.0, 7.0]})
    cut = pd.Timestamp("2014-04-06 03:00", tz="Australia/Melbourne")
    bins = proto.bin_to_grid(frame, pd.Timedelta("30min"), end=cut)
    assert bins["ds"].iloc[-1] + pd.Timedelta("30min") == cut  # the last bin ends at the cutoff
    assert bins["y"].iloc[0] == 2.0  # 23:00-23:30 holds 1 and 3
    assert bins["y"].dropna().tolist() == [2.0, 5.0]  # 7 (after the cutoff) is in no bin
    assert len(bins) == int((cut - bins["ds"].iloc[0]) / pd.Timedelta("30min"))


def test_bin_forecasts_are_read_at_bin_middles_from_the_last_observation():
    bins = pd.date_range("2020-01-01 01:00", periods=3, freq="1h")
    asked = pd.DatetimeIndex(["2020-01-01 00:45", "2020-01-01 01:30", "2020-01-01 02:00", "2020-01-01 05:00"])
    out = proto.grid_to_times(bins, np.array([10.0, 20.0, 30.0]), pd.Timedelta("1h"),
                              pd.Timestamp("2020-01-01 00:30"), 4.0, asked)
    np.testing.assert_allclose(out, [5.5, 10.0, 15.0, 30.0])  # 00:45 is a quarter of 4 -> 10


def test_windows_ask_for_the_next_day_after_each_midnight():
    frame = native(24 * 48, tz=None)
    spec = proto.IrregularSpec("x", lambda: frame, pd.Timedelta("30min"), 48, n_windows=3)
    cuts = proto.cutoffs(spec, frame)
    assert [c.hour for c in cuts] == [0, 0, 0] and cuts[-1] + proto.DAY <= frame["ds"].max()
    asked = proto.asked_windows(frame, cuts)
    assert len(asked) == 3 * 48
    assert ((asked["ds"] > asked["cutoff"]) & (asked["ds"] <= asked["cutoff"] + proto.DAY)).all()


def test_scores_at_the_asked_times():
    forecasts = pd.DataFrame({"unique_id": ["a", "a", "b", "b"], "y": [1.0, 2.0, 3.0, 5.0],
                              "y_pred": [1.0, 4.0, 3.0, 4.0], "y_q0.1": [0.0, 3.0, 2.0, 4.5],
                              "y_q0.5": [1.0, 4.0, 3.0, 4.0], "y_q0.9": [2.0, 5.0, 4.0, 4.8]})
    out = proto.score(forecasts, {"a": 2.0, "b": 1.0})
    assert out["mae"] == pytest.approx(0.75)
    assert out["mase"] == pytest.approx((0 + 1 + 0 + 1) / 4)
    assert out["coverage"] == pytest.approx(0.5)  # 1 and 3 inside; 2 and 5 outside
    assert out["crps"] > 0
    assert "crps" not in proto.score(forecasts[["unique_id", "y", "y_pred"]], {"a": 2.0, "b": 1.0})


def test_scores_by_the_wait_since_the_last_observation_before_the_cutoff():
    cut = pd.Timestamp("2020-01-02")
    # Series a was last read 2 hours before the cutoff, series b 30 hours before (an outage).
    frame = pd.DataFrame({"unique_id": ["a", "a", "b", "b"], "y": 0.0,
                          "ds": [cut - pd.Timedelta("5h"), cut - pd.Timedelta("2h"),
                                 cut - pd.Timedelta("40h"), cut - pd.Timedelta("30h")]})
    asked = pd.to_timedelta(["1h", "10h", "1h", "3h"])
    forecasts = pd.DataFrame({"unique_id": ["a", "a", "b", "b"], "ds": cut + asked, "cutoff": cut,
                              "y": [1.0, 2.0, 3.0, 5.0], "y_pred": [1.0, 4.0, 3.0, 4.0],
                              "y_q0.1": [0.0, 3.0, 2.0, 4.5], "y_q0.9": [2.0, 5.0, 4.0, 4.8]})
    groups = proto.score_by_wait(forecasts, frame)
    # Waits: 3 h and 12 h for a, 31 h and 33 h for b.
    assert [(g["hours"], g["n"]) for g in groups] == [("(0, 6]", 1), ("(6, 12]", 1), ("(24, 36]", 2)]
    assert groups[2]["mae"] == pytest.approx(0.5) and groups[2]["coverage"] == pytest.approx(0.5)
    assert groups[1]["width"] == pytest.approx(2.0) and groups[1]["coverage"] == 0.0
    assert "coverage" not in proto.score_by_wait(forecasts.drop(columns=["y_q0.1", "y_q0.9"]), frame)[0]


def test_the_validation_split_ends_where_the_test_block_starts():
    frame = native(40 * 48, tz=None)
    spec = proto.IrregularSpec("x", lambda: frame, pd.Timedelta("30min"), 48, n_windows=14)
    test_cuts = proto.cutoffs(spec, frame)[-5:]
    before = proto.before_test_block(spec, frame, 5)
    assert before["ds"].max() == test_cuts[0]  # nothing a test window asks for
    val_cuts = proto.cutoffs(spec, before)[-5:]
    asked = proto.asked_windows(before, val_cuts)
    assert val_cuts[-1] + proto.DAY == test_cuts[0] and asked["ds"].max() <= test_cuts[0]
    assert len(asked) == 5 * 48
