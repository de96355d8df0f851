"""MkDocs hooks: bring the benchmark indexes into the site and map repository links.

docs/*.md link to files outside docs/ (benchmark scripts and result folders) with relative
paths that work when browsing the repository. In the site, a link to a page the site holds
points at that page; a link to any other repository file becomes its path in code, since the
site does not carry the raw results. Every remaining link is checked by `mkdocs build --strict`.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
# Repository files shown as site pages: repository path -> page path in the site.
PAGES = {
    "benchmarks/README.md": "benchmarks/index.md",
    "benchmarks/results/README.md": "benchmarks/results.md",
}
LINK = re.compile(r"(?<!!)\[([^\]]*)\]\(([^)\s]+)\)")


def on_files(files, config):
    for repo_path, site_path in PAGES.items():
        files.append(File.generated(config, site_path, abs_src_path=str(ROOT / repo_path)))
    return files


def _repo_path(page_src: str) -> str:
    """Repository path of a page, from its path in the site."""
    for repo_path, site_path in PAGES.items():
        if site_path == page_src:
            return repo_path
    return "docs/" + page_src


def _site_path(repo_path: str) -> str | None:
    """The page path in the site for a repository path, or None when the site lacks it."""
    if repo_path in PAGES:
        return PAGES[repo_path]
    if repo_path.startswith("docs/"):
        return repo_path[len("docs/"):]
    return None


def on_page_markdown(markdown, page, config, files):
    page_src = page.file.src_uri
    page_dir = posixpath.dirname(_repo_path(page_src))

    def relink(match: re.Match) -> str:
        text, target = match.group(1), match.group(2)
        if "://" in target or target.startswith(("#", "mailto:")):
            return match.group(0)
        path, _, anchor = target.partition("#")
        repo_path = posixpath.normpath(posixpath.join(page_dir, path))
        site_path = _site_path(repo_path)
        if site_path is None or site_path.endswith("/"):
            return f"{text} (`{repo_path}`)" if text.strip("`") != repo_path else f"`{repo_path}`"
        if repo_path.startswith("docs/") and not path.startswith(".."):
            return match.group(0)  # a link inside docs/: MkDocs resolves and checks it
        new = posixpath.relpath(site_path, posixpath.dirname(page_src) or ".")
        return f"[{text}]({new}{'#' + anchor if anchor else ''})"

    return LINK.sub(relink, markdown)
