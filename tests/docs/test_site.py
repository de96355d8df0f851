"""The documentation site builds with --strict (broken links, missing API references and
unparsable docstrings fail), and its pages hold what they promise."""

from __future__ import annotations

import html
import re
from pathlib import Path


def text_of(page: Path) -> str:
    """The visible text of a built HTML page."""
    body = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page.read_text(), flags=re.DOTALL)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def test_every_guide_and_the_benchmark_indexes_are_pages(site):
    for page in ["index.html", "forecasting/index.html", "irregular/index.html", "tuning/index.html",
                 "benchmarks/index.html", "benchmarks/overview/index.html", "benchmarks/results/index.html", "api/estimators/index.html"]:
        assert (site / page).is_file(), page


def test_api_reference_renders_the_estimators_parameters(site):
    text = text_of(site / "api" / "estimators" / "index.html")
    for expected in ["S4Forecaster", "S4Classifier", "number of steps to forecast",
                     "net_", "the trained ForecastNet", "time_grid"]:
        assert expected in text, expected


def test_links_outside_the_site_become_repository_paths(site):
    """docs/forecasting.md links to a results file the site does not carry, and to the results
    index it does."""
    page = (site / "forecasting" / "index.html").read_text()
    assert "<code>benchmarks/results/calibration_v4/README.md</code>" in page
    assert 'href="../benchmarks/results/"' in page
