"""Benchmark protocols (Informer long-horizon forecasting) behind `s4ts bench`."""
