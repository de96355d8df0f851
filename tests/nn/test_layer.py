import math

import pytest
import torch

from s4ts.nn import S4Backbone, S4Layer, ssm_param_groups


@pytest.fixture(autouse=True)
def torch_backend(monkeypatch):
    monkeypatch.setenv("S4TS_CAUCHY_BACKEND", "torch")


def rel(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


@torch.no_grad()
def convolution(net: S4Backbone, x: torch.Tensor) -> torch.Tensor:
    return net(x)


@torch.no_grad()
def recurrence(net: S4Backbone, x: torch.Tensor) -> torch.Tensor:
    """The backbone's outputs (B, L, d_output) for x (B, L, d_input), one step at a time."""
    state, steps = net.default_state(x.shape[0]), []
    for t in range(x.shape[1]):
        out, state = net.step(x[:, t], state)
        steps.append(out)
    return torch.stack(steps, 1)


@pytest.mark.parametrize("mode", ["diag", "dplr"])
def test_convolution_equals_recurrence_in_float32(mode):
    net = S4Backbone(3, 2, d_model=16, n_layers=2, d_state=16, mode=mode, dropout=0.0).eval()
    x = torch.randn(4, 300, 3)
    assert rel(recurrence(net, x), convolution(net, x)) <= 1e-4


@pytest.mark.parametrize("trained_length", [200, 300])
def test_dplr_trained_at_a_length_still_equals_its_recurrence(trained_length):
    """A training call stores C~ for its length: the convolution at 300 steps (C~ itself, or
    converted back from 200) and the recurrence (converted) still agree."""
    net = S4Backbone(3, 2, d_model=16, n_layers=2, d_state=16, mode="dplr", dropout=0.0)
    net(torch.randn(2, trained_length, 3))  # training mode
    assert [int(m.c_length) for m in net.modules() if hasattr(m, "c_length")] == [trained_length] * 2
    net.eval()
    x = torch.randn(4, 300, 3)
    assert rel(recurrence(net, x), convolution(net, x)) <= 1e-4


@pytest.mark.parametrize("mode", ["diag", "dplr"])
def test_end_state_continues_the_sequence(mode):
    net = S4Backbone(2, 1, d_model=8, n_layers=2, d_state=8, mode=mode, dropout=0.0).eval()
    x = torch.randn(3, 200, 2)
    with torch.no_grad():
        full = net(x)
        head, state = net(x[:, :150], return_state=True)
        tail = []
        for t in range(150, 200):
            out, state = net.step(x[:, t], state, rate=1.0)
            tail.append(out)
    assert rel(torch.cat([head, torch.stack(tail, 1)], 1), full) <= 1e-4


@pytest.mark.parametrize("bidirectional", [False, True])
def test_scan_with_equal_steps_equals_convolution(bidirectional):
    layer = S4Layer(8, 16, mode="diag", bidirectional=bidirectional).double()
    u = torch.randn(2, 8, 120, dtype=torch.float64)
    y_conv = layer(u)
    y_scan = layer(u, dt=torch.full((2, 120), 1.0, dtype=torch.float64))
    assert rel(y_scan, y_conv) < 1e-10
    # A constant dt of r is the same as rate r.
    assert rel(layer(u, dt=torch.full((2, 120), 2.0, dtype=torch.float64)), layer(u, rate=2.0)) < 1e-10


def test_scan_gradients_match_convolution_gradients():
    layer = S4Layer(4, 8, mode="diag").double()
    u = torch.randn(2, 4, 64, dtype=torch.float64)
    grads = []
    for dt in (None, torch.ones(2, 64, dtype=torch.float64)):
        layer.zero_grad()
        (layer(u, dt=dt) ** 2).sum().backward()
        grads.append([p.grad.clone() for p in layer.parameters()])
    for a, b in zip(*grads):
        assert torch.allclose(a, b, atol=1e-8)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("mode", ["diag", "dplr"])
def test_padding_never_changes_valid_outputs(mode, bidirectional):
    net = S4Backbone(2, 3, d_model=8, n_layers=2, d_state=8, mode=mode, bidirectional=bidirectional, dropout=0.0).eval()
    x = torch.randn(1, 40, 2)
    padded = torch.cat([x, 5 * torch.randn(1, 25, 2)], 1)
    mask = torch.zeros(1, 65, dtype=torch.bool)
    mask[:, :40] = True
    with torch.no_grad():
        alone = net(x)
        in_batch = net(padded, mask=mask)[:, :40]
    assert rel(in_batch, alone) < 1e-5


def test_rate_two_on_decimated_input_matches_full_rate():
    """Rescaling Δ by the decimation factor keeps the continuous-time model.

    The input is a smooth sum of sinusoids with periods of 64 samples and more
    and the steps are small (Δ ≤ 0.01), so the SSM's continuous solution is
    well resolved at both rates; what remains is the zero-order-hold error of
    holding u for 2Δ instead of Δ, O(Δ |u'|) ~ 2π/64 ≈ 10% of one step's
    increment, which the integrating kernel averages to a few percent. The
    naive run (rate 1 on decimated data, i.e. time running twice as fast)
    must be far worse, which shows the rate is doing the work.
    """
    torch.manual_seed(1)
    layer = S4Layer(16, 32, mode="diag", dt_min=1e-3, dt_max=1e-2).double()
    t = torch.arange(4096, dtype=torch.float64)
    u = sum(torch.sin(2 * math.pi * t / p + ph) for p, ph in ((64, 0.3), (150, 1.0), (700, 2.0)))
    u = u.expand(1, 16, -1).contiguous()
    with torch.no_grad():
        full = layer(u)[..., 1::2]  # the sample ending each pair of fine steps
        zero_shot = layer(u[..., 1::2], rate=2.0)
        naive = layer(u[..., 1::2], rate=1.0)
    err_rate = ((zero_shot - full).norm() / full.norm()).item()
    err_naive = ((naive - full).norm() / full.norm()).item()
    assert err_rate < 0.05, err_rate
    assert err_rate < 0.1 * err_naive, (err_rate, err_naive)


def test_ssm_parameters_get_their_own_group():
    net = S4Backbone(2, 1, d_model=8, n_layers=2, d_state=8, mode="dplr", ssm_lr=1e-4)
    groups = ssm_param_groups(net, lr=1e-2, weight_decay=0.05)
    ssm = [g for g in groups if g["lr"] == 1e-4]
    assert len(ssm) == 1 and ssm[0]["weight_decay"] == 0.0
    ids = {id(p) for p in ssm[0]["params"]}
    for block in net.blocks:
        k = block.s4.kernel
        assert {id(k.log_dt), id(k.log_neg_real), id(k.imag), id(k.B), id(k.P)} <= ids
        assert id(k.C) not in ids
    assert sum(len(g["params"]) for g in groups) == len(list(net.parameters()))
    torch.optim.AdamW(groups)  # accepted as is


def test_clear_errors():
    with pytest.raises(ValueError, match="unknown mode"):
        S4Layer(4, mode="lru")
    with pytest.raises(ValueError, match="even"):
        S4Layer(4, d_state=7)
    with pytest.raises(ValueError, match="mode='diag'"):
        S4Layer(4, mode="dplr")(torch.randn(1, 4, 10), dt=torch.ones(1, 10))
    with pytest.raises(ValueError, match="zero-order hold"):
        S4Layer(4, mode="dplr", disc="zoh")
    with pytest.raises(ValueError, match="causal"):
        S4Layer(4, bidirectional=True).step(torch.randn(1, 4), None)
    with pytest.raises(ValueError, match="batch, length, features"):
        S4Backbone(2, 1)(torch.randn(5, 2))
    with pytest.raises(ValueError, match="d_model"):
        S4Backbone(2, 1, d_model=0)


@pytest.mark.parametrize("mode", ["diag", "dplr"])
def test_aliased_fraction_counts_only_modes_resolved_at_training_rate(mode):
    net = S4Backbone(1, 1, d_model=8, n_layers=2, d_state=32, mode=mode)
    fractions = [net.aliased_fraction(r) for r in (0.25, 1.0, 2.0, 8.0, 1e6)]
    assert fractions[0] == fractions[1] == 0.0  # finer grids alias nothing new
    # Non-oscillating modes (Im λ = 0) never alias, so the limit stays just below 1.
    assert fractions == sorted(fractions) and 0.9 < fractions[-1] <= 1.0
    limit = net.max_rate(0.3)
    assert net.aliased_fraction(limit) <= 0.3 < net.aliased_fraction(limit * 2 ** (1 / 8))


def test_step_with_per_row_rates_matches_separate_steps():
    net = S4Backbone(2, 1, d_model=8, n_layers=2, d_state=8, mode="diag", dropout=0.0).eval()
    x, rates = torch.randn(3, 2), torch.tensor([0.5, 1.0, 3.0])
    with torch.no_grad():
        _, state = net(torch.randn(3, 20, 2), return_state=True)
        y, _ = net.step(x, state, rate=rates)
        for i in range(3):
            y_i, _ = net.step(x[i : i + 1], [s[i : i + 1] for s in state], rate=float(rates[i]))
            assert torch.allclose(y[i], y_i[0], atol=1e-6)
    dplr = S4Backbone(2, 1, d_model=8, n_layers=1, d_state=8, mode="dplr")
    with pytest.raises(ValueError, match="mode='diag'"):
        dplr.step(x, dplr.default_state(3), rate=rates)
