"""s4ts.nn.Dropout: torch's dropout semantics with a cheaper CPU mask."""

import pytest
import torch

from s4ts.nn.dropout import Dropout


def test_drops_the_share_p_and_rescales_the_rest():
    torch.manual_seed(0)
    x = torch.ones(200_000)
    y = Dropout(0.3).train()(x)
    kept = y != 0
    assert abs(1 - kept.float().mean().item() - 0.3) < 0.005
    assert torch.allclose(y[kept], torch.full_like(y[kept], 1 / 0.7))
    assert abs(y.mean().item() - 1.0) < 0.01  # unbiased


def test_masks_are_independent_between_elements_and_calls():
    torch.manual_seed(1)
    layer = Dropout(0.5).train()
    a, b = layer(torch.ones(100_000)) != 0, layer(torch.ones(100_000)) != 0
    assert abs((a & b).float().mean().item() - 0.25) < 0.01  # independent calls
    assert abs((a[1:] & a[:-1]).float().mean().item() - 0.25) < 0.01  # neighbours (four per draw)
    assert abs((a[4:] & a[:-4]).float().mean().item() - 0.25) < 0.01  # the same lane of the next draw


def test_eval_mode_and_p_zero_are_the_identity_and_gradients_flow():
    x = torch.randn(4, 5, requires_grad=True)
    assert Dropout(0.5).eval()(x) is x and Dropout(0.0).train()(x) is x
    y = Dropout(0.5).train()(x)
    y.sum().backward()
    assert torch.equal(x.grad != 0, y != 0)


def test_bad_p_is_refused():
    with pytest.raises(ValueError, match="dropout=1.0"):
        Dropout(1.0)


def test_gradient_is_the_forward_mask_scaled():
    torch.manual_seed(2)
    x = torch.randn(3, 7, 11, dtype=torch.float64, requires_grad=True)
    y = Dropout(0.25).train()(x)
    g = torch.randn_like(y)
    y.backward(g)
    expected = torch.where(y != 0, g / 0.75, torch.zeros_like(g))
    assert torch.allclose(x.grad, expected)

