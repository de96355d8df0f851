"""Adapters to other ecosystems; each subpackage needs its own extra (e.g. `gluonts`)."""
