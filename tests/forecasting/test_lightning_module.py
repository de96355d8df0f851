"""ForecastingModule, the Δ plumbing into the backbone, and the probabilistic heads."""

import numpy as np
import pytest
import torch
from scipy import stats

from s4ts.forecasting.module import ForecastingModule, run_backbone
from s4ts.nn import S4Backbone
from s4ts.nn.distributions import QuantileHead, StudentTHead, head_from_config


@pytest.fixture
def backbone():
    return S4Backbone(3, 2, d_model=8, n_layers=1, d_state=4, dropout=0.0).eval()


def test_run_backbone_maps_dt_to_rate_or_per_step_dt(backbone):
    x = torch.randn(2, 10, 3)
    with torch.no_grad():
        torch.testing.assert_close(run_backbone(backbone, x, torch.ones(2, 10)), backbone(x))
        per_row = torch.tensor([[1.0] * 10, [2.0] * 10])
        torch.testing.assert_close(
            run_backbone(backbone, x, per_row), backbone(x, rate=torch.tensor([1.0, 2.0]))
        )
        irregular = torch.rand(2, 10) + 0.5  # per-step Δ multipliers (irregular grids)
        torch.testing.assert_close(run_backbone(backbone, x, irregular), backbone(x, dt=irregular))


def test_left_padding_is_invisible_to_a_causal_backbone(backbone):
    x = torch.randn(1, 10, 3)
    padded = torch.cat([torch.randn(1, 4, 3), x], dim=1)  # garbage before the series starts
    valid = torch.arange(14)[None] >= 4
    with torch.no_grad():
        full = run_backbone(backbone, padded, torch.ones(1, 14), valid)[:, 4:]
        torch.testing.assert_close(full, run_backbone(backbone, x, torch.ones(1, 10)), atol=1e-5, rtol=1e-4)


def test_module_trains_with_an_ssm_param_group():
    backbone = S4Backbone(3, 2, d_model=8, n_layers=1, d_state=4, ssm_lr=1e-3)
    module = ForecastingModule(backbone, QuantileHead([0.1, 0.9]), 1e-2, 0.01)
    optimizer = module.configure_optimizers()
    # SSM parameters train with their own smaller learning rate and no weight decay.
    assert any(g["lr"] == 1e-3 and g["weight_decay"] == 0.0 for g in optimizer.param_groups)
    batch = {
        "x": torch.randn(4, 12, 3), "y": torch.randn(4, 12), "dt": torch.ones(4, 12),
        "loss_mask": torch.arange(12).expand(4, 12) >= 8, "valid": torch.ones(4, 12, dtype=torch.bool),
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
