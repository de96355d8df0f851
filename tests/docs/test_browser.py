"""The built site in headless Chromium: the index and one API page render with their title,
navigation and highlighted code; screenshots go to out/screenshots/ (not in git).

Chromium comes from Debian's package (scripts/install_chromium.sh, run by .ci/run). Without
it these tests skip, unless S4TS_REQUIRE_CHROMIUM=1 (CI) makes that a failure.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "out" / "screenshots"
PAGES = {  # page -> (title, text the rendered page must hold)
    "index.html": ("s4ts", "from s4ts import S4Forecaster"),
    "api/estimators/index.html": ("Estimators - s4ts", "S4Forecaster"),
}


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("S4TS_REQUIRE_CHROMIUM") == "1":
            pytest.fail("chromium not found (S4TS_REQUIRE_CHROMIUM=1): run scripts/install_chromium.sh")
        pytest.skip("chromium not found: run scripts/install_chromium.sh")
    return path


def _visible(dom: str) -> str:
    """The page's text (tags removed: highlighted code is split into spans)."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", dom)))


def _headless(chromium: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", *args],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders_in_chromium(page, site, chromium):
    title, text = PAGES[page]
    url = (site / page).as_uri()
    dom = _headless(chromium, "--dump-dom", url).stdout
    assert f"<title>{title}</title>" in dom
    assert 'class="md-nav' in dom, "no navigation"
    assert 'class="highlight' in dom or 'class="doc doc-' in dom, "no rendered code or API block"
    assert text in _visible(dom), text
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / (page.replace("/", "_").removesuffix(".html") + ".png")
    _headless(chromium, "--window-size=1280,900", f"--screenshot={shot}", url)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
