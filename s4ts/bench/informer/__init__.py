"""The Informer long-horizon benchmark (`s4ts bench informer`), run with S4Forecaster.

protocol: datasets, splits, scaling, published figures; baseline: the least-squares linear
map; forecaster: S4Forecaster on the protocol's splits; search: the settings a run may vary;
cells: one table cell; report: tables and JSON; cli: the options and the run.
"""

from s4ts.bench.informer.cli import add_arguments, run

__all__ = ["add_arguments", "run"]
