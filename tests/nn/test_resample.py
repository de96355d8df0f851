"""Row-wise linear interpolation between time grids and window times from per-step Δ."""

from __future__ import annotations

import numpy as np
import torch

from s4ts.nn.resample import interpolate, window_times


def test_matches_numpy_interp_row_by_row_skipping_unobserved_sources():
    rng = np.random.default_rng(0)
    source = np.cumsum(rng.exponential(1.0, (5, 30)), axis=1)  # (B, S) increasing
    values = rng.normal(size=(5, 30))
    observed = rng.random((5, 30)) < 0.6
    target = rng.uniform(source.min() - 2, source.max() + 2, (5, 40))  # beyond both ends too
    got = interpolate(torch.tensor(values), torch.tensor(source), torch.tensor(target), torch.tensor(observed))
    for row in range(5):
        seen = observed[row]
        # np.interp holds the end values beyond the observed range, as interpolate must.
        expected = np.interp(target[row], source[row][seen], values[row][seen])
        np.testing.assert_allclose(got[row].numpy(), expected, rtol=1e-12, atol=1e-12)


def test_times_on_sources_read_them_and_a_row_without_observations_reads_zero():
    source = torch.tensor([[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]], dtype=torch.float64)
    values = torch.tensor([[5.0, 6.0, 7.0], [1.0, 2.0, 3.0]])
    observed = torch.tensor([[True, True, True], [False, False, False]])
    got = interpolate(values, source, source, observed)
    torch.testing.assert_close(got, torch.tensor([[5.0, 6.0, 7.0], [0.0, 0.0, 0.0]]))


def test_gradient_reaches_the_two_neighbours():
    values = torch.tensor([[1.0, 2.0, 4.0]], requires_grad=True)
    source = torch.tensor([[0.0, 1.0, 2.0]], dtype=torch.float64)
    interpolate(values, source, torch.tensor([[1.25]], dtype=torch.float64)).sum().backward()
    torch.testing.assert_close(values.grad, torch.tensor([[0.0, 0.75, 0.25]]))


def test_window_times_are_cumulated_gaps_around_the_last_context_step():
    dt = torch.tensor([[9.0, 1.0, 2.0, 0.5, 3.0]])  # the first step's gap has no predecessor
    context, future = window_times(dt, context_length=3)
    torch.testing.assert_close(context, torch.tensor([[-3.0, -2.0, 0.0]], dtype=torch.float64))
    torch.testing.assert_close(future, torch.tensor([[0.5, 3.5]], dtype=torch.float64))
