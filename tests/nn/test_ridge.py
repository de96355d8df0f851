"""RidgeFit and PrefixRidgeFit: batch-wise ridge least squares into a linear layer."""

from __future__ import annotations

import torch
from torch import nn

from s4ts.nn.ridge import PrefixRidgeFit, RidgeFit


def test_batches_give_the_one_shot_solution_and_weights_scale_the_output():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(200, 5, generator=gen)  # (N, I)
    true = nn.Linear(5, 3)
    y = true(x).detach()  # (N, O)
    fit = RidgeFit(5, 3, ridge=1e-8)
    for rows in torch.arange(200).split(64):
        fit.add(x[rows], y[rows])
    layer = nn.Linear(5, 3)
    fit.solve_into(layer)
    assert fit.rows == 200
    torch.testing.assert_close(layer.weight, true.weight, atol=1e-4, rtol=0)
    torch.testing.assert_close(layer.bias, true.bias, atol=1e-4, rtol=0)
    # With a row weight w, the layer's output times w is fitted to the target: fitting
    # w * true(x) with weight w recovers `true` exactly.
    w = torch.rand(200, 1, generator=gen) + 0.5
    weighted = RidgeFit(5, 3, ridge=1e-8)
    weighted.add(x, w * y, weight=w)
    weighted.solve_into(layer)
    torch.testing.assert_close(layer.weight, true.weight, atol=1e-4, rtol=0)


def test_a_heavy_ridge_shrinks_to_zero():
    x, y = torch.randn(50, 4), torch.randn(50, 2)
    fit = RidgeFit(4, 2, ridge=1e12)
    fit.add(x, y)
    layer = nn.Linear(4, 2)
    fit.solve_into(layer)
    assert layer.weight.abs().max() < 1e-8 and layer.bias.abs().max() < 1e-8


def test_prefix_fit_solves_each_output_on_the_rows_that_know_it():
    """Targets past a row's known prefix are garbage; each output must still be recovered
    exactly, from the rows that know it, and equal a plain fit when every row knows all."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(300, 5, generator=gen)
    true = nn.Linear(5, 4)
    y = true(x).detach()  # (N, O)
    known = torch.randint(0, 6, (300,), generator=gen)  # 0..5 outputs known (5: clipped to 4)
    garbage = torch.where(torch.arange(4) < known[:, None], y, torch.full_like(y, 1e6))
    fit = PrefixRidgeFit(5, 4, ridge=1e-8)
    for rows in torch.arange(300).split(64):
        fit.add(x[rows], garbage[rows], known_steps=known[rows])
    assert fit.rows == int((known > 0).sum())
    layer = nn.Linear(5, 4)
    fit.solve_into(layer)
    torch.testing.assert_close(layer.weight, true.weight, atol=1e-4, rtol=0)
    torch.testing.assert_close(layer.bias, true.bias, atol=1e-4, rtol=0)

    noisy = y + torch.randn(300, 4, generator=gen)
    w = torch.rand(300, 1, generator=gen) + 0.5
    full, prefix = RidgeFit(5, 4, ridge=0.5), PrefixRidgeFit(5, 4, ridge=0.5)
    full.add(x, noisy, weight=w)
    prefix.add(x, noisy, known_steps=torch.full((300,), 4), weight=w)
    a, b = nn.Linear(5, 4), nn.Linear(5, 4)
    full.solve_into(a)
    prefix.solve_into(b)
    torch.testing.assert_close(b.weight, a.weight)
    torch.testing.assert_close(b.bias, a.bias)


def test_prefix_fit_leaves_an_output_no_row_knows_at_zero():
    x = torch.randn(40, 3)
    fit = PrefixRidgeFit(3, 2, ridge=1e-6)
    fit.add(x, torch.randn(40, 2), known_steps=torch.ones(40, dtype=torch.long))
    layer = nn.Linear(3, 2)
    fit.solve_into(layer)
    assert layer.weight[1].abs().max() == 0 and layer.bias[1] == 0 and layer.weight[0].abs().max() > 0
