"""ForecastNet: window normalisation, Δ plumbing, linear path, and stepping without Lightning."""

import pytest
import torch

from s4ts.nn import ForecastNet
from s4ts.nn.forecast_net import Timing, normalise_context
from s4ts.nn.resample import window_times

LC, H, C = 12, 4, 3


def window(batch: int = 2, seed: int = 0) -> torch.Tensor:
    """Windows (B, LC + H, C): target, observed flag (context only), one covariate."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, LC + H, C, generator=g)
    x[:, :, 1] = (torch.arange(LC + H) < LC).float()
    x[:, LC:, 0] = 0.0
    return x


def make_net(**kwargs) -> ForecastNet:
    torch.manual_seed(0)
    return ForecastNet(C, 2, LC, H, d_model=8, n_layers=2, d_state=4, dropout=0.0, **kwargs).eval()


def test_timing_is_decided_once_per_batch():
    dt = torch.ones(2, 5)
    assert Timing.from_steps(dt, torch.tensor([True, True])).rate == 1.0
    per_row = Timing.from_steps(torch.tensor([[1.0] * 5, [2.0] * 5]), torch.tensor([True, True]))
    torch.testing.assert_close(per_row.rate, torch.tensor([1.0, 2.0]))
    irregular = Timing.from_steps(dt, torch.tensor([True, False]))
    assert irregular.dt is dt


@pytest.mark.parametrize("norm", ["mean", "last"])
def test_normalisation_makes_forecasts_equivariant(norm):
    net = make_net(norm=norm, linear=True)
    torch.nn.init.normal_(net.linear.weight, std=0.1)
    x = window()
    with torch.no_grad():
        raw, shift, scale = net(x)
        moved = x.clone()
        moved[:, :LC, 0] = 3.0 * x[:, :LC, 0] + 5.0
        raw2, shift2, scale2 = net(moved)
    # The network's outputs are in normalised space; shift and scale carry the level.
    torch.testing.assert_close(raw2, raw, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(shift2, 3.0 * shift + 5.0, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(scale2, 3.0 * scale, atol=1e-4, rtol=1e-4)


def test_normalise_context_ignores_unobserved_steps():
    y = torch.tensor([[1.0, 0.0, 3.0, 0.0]])
    observed = torch.tensor([[True, False, True, False]])
    z, shift, scale = normalise_context(y, observed, "last")
    assert shift.item() == 3.0 and scale.item() == pytest.approx(1.0, abs=1e-4)
    assert z[0, 1] == 0 and z[0, 3] == 0
    _, mean, _ = normalise_context(y, observed, "mean")
    assert mean.item() == 2.0
    with pytest.raises(ValueError, match="norm='median'"):
        normalise_context(y, observed, "median")


@pytest.mark.parametrize("linear", [False, True])
def test_start_and_step_equal_one_pass_over_the_window(linear):
    net = make_net(linear=linear)
    if linear:
        torch.nn.init.normal_(net.linear.weight, std=0.1)
    x = window()
    with torch.no_grad():
        full, shift, _ = net(x, Timing(rate=0.5))
        state = net.start(x[:, :LC], Timing(rate=0.5))
        steps = []
        for t in range(H):
            out, state = net.step(x[:, LC + t], state, rate=0.5)
            steps.append(out)
    torch.testing.assert_close(torch.stack(steps, dim=1), full, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(state.shift, shift)
    if linear:
        with pytest.raises(ValueError, match="beyond"):
            net.step(x[:, -1], state)


def test_left_padding_is_invisible():
    net = make_net()
    x = window(batch=1)
    valid = torch.arange(LC + H)[None] >= 3  # a series 3 steps shorter than the context
    zero_pad = torch.where(valid[..., None], x, torch.zeros_like(x))
    garbage = torch.where(valid[..., None], x, torch.randn_like(x) + 1.0)
    with torch.no_grad():
        a, shift_a, _ = net(zero_pad, valid=valid)
        b, shift_b, _ = net(garbage, valid=valid)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(shift_a, shift_b)


def test_linear_path_least_squares_recovers_a_linear_map():
    net = make_net(norm="none", linear=True)
    g = torch.Generator().manual_seed(1)
    weight = torch.randn(H, LC, generator=g) * 0.3
    batches = []
    for _ in range(5):
        x = window(batch=64, seed=len(batches))
        y = x[:, :LC, 0] @ weight.T  # (B, H)
        batches.append((x, y))
    used = net.fit_linear_path(batches, ridge=1e-6)
    assert used == 320
    torch.testing.assert_close(net.linear.weight, weight, atol=1e-3, rtol=1e-3)


def test_trains_with_a_plain_torch_loop():
    net = make_net(linear=True).train()
    x = window(batch=16)
    y = x[:, LC - 1 : LC, 0].repeat(1, H)  # persistence of the last value
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        raw, shift, scale = net(x)
        loss = (raw[..., 0] * scale + shift - y).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_normalised_inputs_see_shapes_not_levels():
    """Other series' channels are normalised by their own context and hidden over the horizon."""
    net = make_net(normalised_inputs=[2])
    x = window()
    with torch.no_grad():
        raw, _, _ = net(x)
        moved = x.clone()
        moved[:, :, 2] = 4.0 * x[:, :, 2] - 7.0  # other level and scale, horizon values changed too
        raw2, _, _ = net(moved)
        inputs, _, _, _, _ = net._normalise(x)
    torch.testing.assert_close(raw2, raw, atol=1e-4, rtol=1e-4)
    assert torch.all(inputs[:, LC:, 2] == 0)
    torch.testing.assert_close(inputs[:, :LC, 2].mean(dim=1), torch.zeros(2), atol=1e-5, rtol=0)


@pytest.mark.parametrize("rate", [0.5, 2.0])
def test_linear_path_reads_other_rates_in_continuous_time(rate):
    """A map that extends straight lines extends them at any step size, as a map over time."""
    net = make_net(norm="none", linear=True)
    with torch.no_grad():
        # forecast(k) = z[-1] + k * (z[-1] - z[-2]) for trained steps k = 1..H
        net.linear.weight.zero_()
        steps = torch.arange(1, H + 1, dtype=torch.float32)
        net.linear.weight[:, -1] = 1 + steps
        net.linear.weight[:, -2] = -steps
        net.linear.bias.zero_()
        length = round(LC / rate)
        times = (torch.arange(length) - (length - 1)) * rate  # trained steps, origin at 0
        z = 3.0 + 0.7 * times[None]  # (1, L'): a line in time
        forecast = net.linear_forecast(z, rate)
    n_steps = int(H / rate)
    expected = 3.0 + 0.7 * rate * torch.arange(1, n_steps + 1)[None]
    torch.testing.assert_close(forecast, expected, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="linear path reads"):
        net.linear_forecast(z[:, 1:], 1.0)


def test_linear_path_over_time_with_unit_gaps_is_the_step_map():
    """Irregular windows whose gaps are all one trained step read the linear path exactly as
    regular ones: in the forward pass, from `start`, and in its least-squares fit."""
    net = make_net(linear=True)
    torch.nn.init.normal_(net.linear.weight, std=0.3)
    x = window(batch=3)
    ones = torch.ones(3, LC + H)
    with torch.no_grad():
        _, z, observed, _, _ = net._normalise(x)
        from_steps = net.linear(z)
        context_times, future_times = window_times(ones, LC)
        torch.testing.assert_close(net.linear_in_time(z, context_times, future_times, observed), from_steps)
        state = net.start(x[:, :LC], Timing(dt=ones[:, :LC]), future_dt=ones[:, LC:])
        torch.testing.assert_close(state.linear, from_steps)
    with pytest.raises(ValueError, match="irregular context needs future_dt"):
        net.start(x[:, :LC], Timing(dt=ones[:, :LC]))
    g = torch.Generator().manual_seed(2)
    batches = [(window(batch=32, seed=s), torch.randn(32, H, generator=g)) for s in range(3)]
    regular, irregular = make_net(linear=True), make_net(linear=True)
    assert regular.fit_linear_path(batches) == irregular.fit_linear_path(
        [(x, y, torch.ones(len(x), LC + H)) for x, y in batches]) == 96
    torch.testing.assert_close(irregular.linear.weight, regular.linear.weight)
    torch.testing.assert_close(irregular.linear.bias, regular.linear.bias)


def line_extending(net: ForecastNet) -> ForecastNet:
    """Set the linear path to forecast(k) = z[-1] + k (z[-1] - z[-2]) for trained steps k."""
    with torch.no_grad():
        net.linear.weight.zero_()
        steps = torch.arange(1, net.linear.out_features + 1, dtype=torch.float32)
        net.linear.weight[:, -1] = 1 + steps
        net.linear.weight[:, -2] = -steps
        net.linear.bias.zero_()
    return net


def test_linear_path_reads_irregular_times_and_holds_past_its_horizon():
    net = line_extending(make_net(norm="none", linear=True, linear_horizon=H + 2))
    g = torch.Generator().manual_seed(3)
    gaps = torch.rand(2, LC + H, generator=g) * 1.5 + 0.1  # irregular, some longer than a step
    context_times, future_times = window_times(gaps, LC)
    z = (1.0 + 0.4 * context_times).float()  # (B, LC): a line in time
    with torch.no_grad():
        forecast = net.linear_in_time(z, context_times, future_times)
    # The line continues up to the path's horizon (H + 2 trained steps), then is held there.
    expected = 1.0 + 0.4 * future_times.clamp(max=H + 2)
    torch.testing.assert_close(forecast, expected.float(), atol=1e-5, rtol=1e-5)


def test_linear_path_fit_on_irregular_windows_learns_persistence():
    """Horizons at random times that repeat the last context value: the fitted path must
    forecast that value at any time, including steps only some windows' horizons reach."""
    net = make_net(norm="none", linear=True, linear_horizon=H + 3)
    g = torch.Generator().manual_seed(4)
    batches = []
    for seed in range(4):
        x = window(batch=64, seed=seed)
        dt = torch.rand(64, LC + H, generator=g) * 2.5 + 0.5  # horizons span 2 to 12 steps
        y = x[:, LC - 1, 0:1].repeat(1, H)
        y[::5, -1] = float("nan")  # unobserved horizon values are skipped
        batches.append((x, y, dt))
    assert net.fit_linear_path(batches, ridge=1e-6) == 256
    x = window(batch=5, seed=9)
    context_times = -torch.arange(LC - 1, -1, -1, dtype=torch.float64).expand(5, -1) * 0.7
    future_times = torch.tensor([0.3, 1.0, 2.5, H + 2.5], dtype=torch.float64).expand(5, -1)
    with torch.no_grad():
        forecast = net.linear_in_time(x[:, :LC, 0], context_times, future_times)
    torch.testing.assert_close(forecast, x[:, LC - 1, 0:1].expand(5, 4), atol=2e-3, rtol=0)
