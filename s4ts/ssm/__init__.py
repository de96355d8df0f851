"""The math of structured state spaces, in pure torch: HiPPO, discretisation, kernels, scans."""

from s4ts.ssm.kernel import DiagKernel, DPLRKernel, make_kernel
from s4ts.ssm.scan import diag_ssm_scan

__all__ = ["DPLRKernel", "DiagKernel", "diag_ssm_scan", "make_kernel"]
