"""fft_conv: the causal convolution and its hand-written backward (gradcheck in float64)."""

import pytest
import torch

from s4ts.nn.fftconv import fft_conv, fft_length


@pytest.mark.parametrize("kernel_shape", [(2, 4, 7), (2, 4, 14), (3, 2, 4, 7)])
def test_gradients_match_finite_differences(kernel_shape):
    torch.manual_seed(0)
    u = torch.randn(3, 4, 7, dtype=torch.float64, requires_grad=True)  # (B H L)
    K = torch.randn(*kernel_shape, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda u, K: fft_conv(u, K, 14), (u, K))


def test_forward_is_the_direct_causal_convolution():
    torch.manual_seed(1)
    u, K = torch.randn(2, 3, 9, dtype=torch.float64), torch.randn(1, 3, 9, dtype=torch.float64)
    direct = torch.stack([sum(K[0, :, s] * u[:, :, t - s] for s in range(t + 1)) for t in range(9)], dim=-1)
    torch.testing.assert_close(fft_conv(u, K, 18)[:, 0], direct)


def test_fft_length_is_the_smallest_5_smooth_length_not_below_n():
    def smooth(m):
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        return m == 1

    for n in [1, 2, 7, 240, 1362, 1690, 2000, 4097]:
        expected = next(m for m in range(n, 2 * n + 1) if smooth(m))
        assert fft_length(n) == expected
    assert fft_length(1362) == 1440  # 2 * 681 = 2 * 3 * 227 would be a slow transform


@pytest.mark.parametrize("bidirectional", [False, True])
def test_layer_on_an_awkward_length_is_the_direct_convolution(bidirectional):
    """L = 23: the circle is fft_length(46) = 48 steps, not 2L; outputs stay the linear
    convolution with the forward kernel (and the backward one over later inputs)."""
    from s4ts.nn import S4Layer

    torch.manual_seed(2)
    layer = S4Layer(3, 4, mode="diag", bidirectional=bidirectional).double()
    u = torch.randn(2, 3, 23, dtype=torch.float64)
    K = layer.kernel(23, 1.0)  # (C H L)
    fwd, bwd = (K[:1], K[1:]) if bidirectional else (K, None)
    direct = torch.zeros(2, 3, 23, dtype=torch.float64)
    for t in range(23):
        direct[..., t] = (fwd[0, :, : t + 1].flip(-1) * u[..., : t + 1]).sum(-1) + layer.D[0] * u[..., t]
        if bwd is not None:
            direct[..., t] += (bwd[0, :, : 22 - t] * u[..., t + 1 :]).sum(-1)
    torch.testing.assert_close(layer(u).reshape(2, 3, 23), direct)
