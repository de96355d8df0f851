"""predict's one-pass path (a training window's shape) gives what start + step gives."""

import numpy as np
import pandas as pd
import pytest
import torch
from forecast_data import TINY, future_of, make_frame

from s4ts import S4Forecaster
from s4ts.forecasting import inference
from s4ts.ssm import vandermonde


@pytest.mark.parametrize("settings", [
    {"linear": True},
    {"linear": False, "futr_exog": ["promo"], "hist_exog": ["temp"], "mode": "dplr"},
])
def test_one_pass_and_stepping_give_the_same_forecasts(monkeypatch, settings):
    frame = make_frame(n_series=3)
    history = frame.groupby("unique_id").head(188)
    model = S4Forecaster(**{**TINY, **settings}).fit(history)
    future = future_of(history) if "futr_exog" in settings else None
    calls = []
    real_one_pass = inference.one_pass
    monkeypatch.setattr(inference, "one_pass", lambda *a: calls.append(real_one_pass(*a)) or calls[-1])
    fast = model.predict(X_future=future)
    monkeypatch.setattr(inference, "one_pass", lambda *a: False)
    stepped = model.predict(X_future=future)
    assert calls == [True, True]  # the fast path ran: the recent windows' forecasts, then the forecast
    pd.testing.assert_frame_equal(fast, stepped, rtol=1e-4, atol=1e-4)


def test_shorter_horizons_and_other_rates_step():
    model = S4Forecaster(**TINY).fit(make_frame(n_series=1))
    assert len(model.predict(horizon=5)) == 5  # not the trained horizon: stepped


def test_power_sum_direct_and_blocked_agree_with_the_sum(monkeypatch):
    torch.manual_seed(0)
    u = torch.randn(5, 3, 50)  # (B, H, L)
    x = torch.complex(-torch.rand(3, 4) * 0.1, torch.randn(3, 4))  # (H, N)
    exact = (u.to(torch.complex128)[..., None, :] * torch.exp(x.to(torch.complex128)[None, :, :, None]
             * torch.arange(50, dtype=torch.float64))).sum(-1)  # (B, H, N)
    direct = vandermonde.power_sum(u, x)
    monkeypatch.setattr(vandermonde, "_DIRECT_POWER_SUM", 0)
    blocked = vandermonde.power_sum(u, x)
    for result in (direct, blocked):
        np.testing.assert_allclose(result.numpy(), exact.numpy(), rtol=1e-4, atol=1e-4)
