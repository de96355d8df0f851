"""RidgeFit: batch-wise ridge least squares into a linear layer."""

from __future__ import annotations

import torch
from torch import nn

from s4ts.nn.ridge import RidgeFit


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
