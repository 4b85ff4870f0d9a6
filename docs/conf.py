"""Sphinx configuration for the refopt site.

Build: ``python -m sphinx -W --keep-going -n -b html docs docs/_build/html``.
proofs/ is included through the ``docs/proofs`` symlink; the status page is generated from the
pages' front matter at build time; examples/ is executed by sphinx-gallery.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

project = "refopt"
author = "the refopt developers"
copyright = "2026, the refopt developers"

extensions = [
    "myst_parser",
    "sphinx_proof",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx_gallery.gen_gallery",
]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 2
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "proofs/checks", "sg_execution_times.rst"]
suppress_warnings = ["myst.header"]

autodoc_typehints = "none"          # type hints stay in the code; docstrings carry the math
autodoc_member_order = "bysource"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
nitpick_ignore_regex = [(r"py:.*", r".*\bAny\b.*")]

html_theme = "sphinx_book_theme"
html_title = "refopt"

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # execute every example except the studies, whose pages include their recorded results
    "filename_pattern": r"/(?!study_)[a-z][^/]*\.py$",
    "ignore_pattern": r"/_",                # helpers such as _plotting.py
    "image_scrapers": ("matplotlib",),
    "thumbnail_size": (240, 160),
    "remove_config_comments": True,
    "write_computation_times": False,
}


def _front_matter(path: Path) -> dict:
    text = path.read_text()
    block = text[4:text.index("\n---\n", 4)]
    meta, key = {}, None
    for line in block.splitlines():
        if line.startswith("  - "):
            meta.setdefault(key, []).append(line[4:].strip())
        elif ":" in line:
            key, _, value = line.partition(":")
            if value.strip():
                meta[key.strip()] = value.strip()
    return meta


def _write_status_page(app):
    """docs/generated/status.md: every proofs/ page with its status, code and test count."""
    out = Path(app.srcdir) / "generated"
    out.mkdir(exist_ok=True)
    rows = []
    for page in sorted((ROOT / "proofs").rglob("*.md")):
        if page.name == "index.md":
            continue
        meta = _front_matter(page)
        label = re.search(r"^\(([\w-]+)\)=$", page.read_text(), flags=re.M).group(1)
        section = page.parent.name
        rows.append(f"| {section} | {{ref}}`{label}` | **{meta['status']}** | "
                    f"`{meta['implements']}` | {len(meta.get('tests', []))} | "
                    f"{len(meta.get('checks', []))} |")
    body = ["# Status of every derivation and theorem", "",
            "Generated from the front matter of the pages in `proofs/` at build time.", "",
            "| section | page | status | implements | tests | SymPy checks |",
            "|---|---|---|---|---|---|", *rows, ""]
    (out / "status.md").write_text("\n".join(body))


def setup(app):
    app.connect("builder-inited", _write_status_page)
