"""fft_conv: the causal convolution and its hand-written backward (gradcheck in float64)."""

import pytest
import torch

from s4ts.nn.fftconv import fft_conv


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
