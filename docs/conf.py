"""Sphinx configuration for the refopt site.

Build: ``python -m sphinx -W --keep-going -n -b html docs docs/_build/html``.
proofs/ is included through the ``docs/proofs`` symlink. docs/_ext/provenance.py runs every check
of proofs/checks/ with its wrong variants, computes each page's status from that evidence, writes
the status index and the checks/tests pages, inserts the provenance box on every derivation page
and appends its trajectory figure (docs/_ext/trajectories.py). examples/ is executed by
sphinx-gallery. MathJax is served from the site itself (sphinx-mathjax-offline).

``REFOPT_DOCS_QUICK=1`` skips executing the gallery and drawing the trajectories, for quick local
builds of the text; the test suite (tests/test_docs.py) always builds the complete site.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))
QUICK = os.environ.get("REFOPT_DOCS_QUICK") == "1"

project = "refopt"
author = "the refopt developers"
copyright = "2026, the refopt developers"

extensions = [
    "myst_parser",
    "sphinx_proof",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",       # serves MathJax from _static/mathjax: formulas render offline
    "sphinx.ext.viewcode",          # source links from the API and the provenance boxes
    "sphinxcontrib.bibtex",
    "sphinx_gallery.gen_gallery",
    "provenance",
]
bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "alpha"
bibtex_reference_style = "author_year"
refopt_trajectories = not QUICK
# page-local numbering: the derivation toctrees are numbered, so "Theorem 3.2" is the second
# statement of page 3; theorems, lemmas, corollaries and propositions share one counter
numfig_secnum_depth = 1
prf_realtyp_to_countertyp = {"lemma": "theorem", "corollary": "theorem", "proposition": "theorem"}
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
    "ignore_pattern": r"(^|/)_[^/]*\.py$",   # helpers such as _common.py (matched on the file name)
    "image_scrapers": ("matplotlib",),
    "thumbnail_size": (240, 160),
    "remove_config_comments": True,
    "write_computation_times": False,
    "plot_gallery": "False" if QUICK else "True",
}
html_static_path = ["_static"]
html_css_files = ["refopt.css"]
