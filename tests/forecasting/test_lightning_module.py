"""ForecastingModule (loss and optimizer) and the probabilistic heads."""

import numpy as np
import pytest
import torch
from scipy import stats

from s4ts.forecasting.lightning_module import ForecastingModule
from s4ts.nn import ForecastNet
from s4ts.nn.distributions import QuantileHead, StudentTHead, head_from_config


def test_module_trains_with_an_ssm_param_group():
    net = ForecastNet(3, 2, 8, 4, d_model=8, n_layers=1, d_state=4, ssm_lr=1e-3)
    module = ForecastingModule(net, QuantileHead([0.1, 0.9]), 1e-2, 0.01)
    optimizer = module.configure_optimizers()
    # SSM parameters train with their own smaller learning rate and no weight decay.
    assert any(g["lr"] == 1e-3 and g["weight_decay"] == 0.0 for g in optimizer.param_groups)
    batch = {
        "x": torch.randn(4, 12, 3), "y": torch.randn(4, 4), "dt": torch.ones(4, 12),
        "loss_mask": torch.ones(4, 4, dtype=torch.bool), "valid": torch.ones(4, 12, dtype=torch.bool),
        "regular": torch.ones(4, dtype=torch.bool),
    }
    losses = []
    for _ in range(20):
        loss = module._loss(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_quantile_head_loss_and_outputs():
    head = QuantileHead([0.9, 0.1, 0.5])
    assert head.quantiles == [0.1, 0.5, 0.9] and head.n_outputs == 3
    raw = torch.zeros(1, 2, 3)
    y = torch.tensor([[1.0, 5.0]])
    mask = torch.tensor([[True, False]])  # the masked-out step does not count
    assert head.loss(raw, y, mask).item() == pytest.approx((0.1 + 0.5 + 0.9) / 3)
    crossed = np.array([[3.0, 1.0, 2.0]])
    np.testing.assert_array_equal(head.quantile(crossed, [0.1, 0.9]), [[1.0, 3.0]])
    assert head.point(crossed)[0] == 2.0
    with pytest.raises(ValueError, match="not trained"):
        head.quantile(crossed, [0.25])
    assert head_from_config(head.config()).quantiles == head.quantiles


def test_student_t_head_matches_scipy():
    head = StudentTHead()
    raw = np.array([[0.5, 0.3, 1.0]])
    loc, scale, df = 0.5, np.logaddexp(0, 0.3) + 1e-4, 2 + np.logaddexp(0, 1.0)
    np.testing.assert_allclose(head.quantile(raw, [0.1, 0.9])[0], stats.t.ppf([0.1, 0.9], df, loc, scale))
    nll = head.loss(torch.tensor(raw[None], dtype=torch.float64), torch.tensor([[1.5]]), torch.tensor([[True]]))
    assert nll.item() == pytest.approx(-stats.t.logpdf(1.5, df, loc, scale))
    draws = head.sample(raw, 4000, np.random.default_rng(0))
    assert draws.shape == (4000, 1) and np.median(draws) == pytest.approx(loc, abs=0.05)
    assert isinstance(head_from_config(head.config()), StudentTHead)
