"""Build the documentation site exactly as documented, with warnings as errors (-W -n), so a
page that references a missing label, symbol or test breaks the suite; then check what the build
must contain: proof blocks, provenance boxes with computed statuses, source links, the status
index with the check-mutation score, trajectories, and MathJax served by the site itself."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STATUSES = ("proved here + machine-checked", "proved here", "measured", "cited")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("sphinx", reason="the docs extra is not installed")
    for module in ("myst_parser", "sphinx_proof", "sphinx_gallery", "matplotlib", "sphinxcontrib.bibtex"):
        pytest.importorskip(module, reason="the docs extra is not installed")
    out = tmp_path_factory.mktemp("site") / "html"
    env = {k: v for k, v in os.environ.items() if k != "REFOPT_DOCS_QUICK"}   # always the full site
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q",
                             "-b", "html", "docs", str(out)], cwd=ROOT, capture_output=True,
                            text=True, timeout=1200, env=env)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return out


@pytest.mark.docs
def test_site_builds_with_warnings_as_errors_and_renders_proofs(site):
    pages = list(site.rglob("*.html"))
    # a malformed MyST fence renders a directive as literal text instead of failing: catch it
    leaked = [p.name for p in pages if "```{prf:" in p.read_text() or ":::{admonition" in p.read_text()]
    assert not leaked, leaked
    adam = (site / "proofs" / "rules" / "adam.html").read_text()
    assert 'class="proof lemma admonition"' in adam
    # page-local numbering: "Lemma <page>.<n>"
    assert re.search(r"Lemma \d+\.\d+", adam) and re.search(r"Algorithm \d+\.\d+", adam)
    gallery = site / "_images"
    for name in ("integrator_orders", "rsgd_teacher_student", "agd_sgd_fraction",
                 "bigbatch_trajectories"):
        assert list(gallery.glob(f"sphx_glr_{name}_*.png")), name


@pytest.mark.docs
def test_every_derivation_page_has_a_provenance_box_with_a_computed_status(site):
    pages = [p for p in (site / "proofs").rglob("*.html") if p.name != "index.html"]
    assert pages
    for page in pages:
        html = page.read_text()
        assert re.search(r'class="[^"]*\bprovenance\b[^"]*"', html), page
        found = re.search(r"Provenance · status: ([^<]+)<", html)
        assert found and found.group(1).strip() in STATUSES, page
        assert "Implements" in html and "Checked by" in html and "Tested by" in html, page
    adam = (site / "proofs" / "rules" / "adam.html").read_text()
    assert "_modules/refopt/optim/adam.html#adam" in adam          # source link (viewcode)
    assert (site / "_modules" / "refopt" / "optim" / "adam.html").exists()
    assert "generated/checks.html#check-classic-rules-check-adam-bias-correction" in adam
    assert "generated/tests.html#test-" in adam
    assert "_images/rule-adam.png" in adam                           # the generated figure
    assert (site / "_images" / "rule-adam.png").stat().st_size > 10_000


@pytest.mark.docs
def test_status_index_reports_the_check_mutation_score(site):
    status = (site / "generated" / "status.html").read_text()
    assert "Check-mutation score" in status
    killed, total = map(int, re.search(r"<strong>(\d+) of (\d+)</strong> registered wrong variants",
                                       status).groups())
    assert total > 0 and killed == total
    for label in STATUSES:
        assert label in status


@pytest.mark.docs
def test_mathjax_is_served_by_the_site_itself(site):
    """Formulas render offline: every page with math loads MathJax, and every MathJax script of
    the site is a file of the site itself (no CDN)."""
    with_math = 0
    for page in site.rglob("*.html"):
        html = page.read_text()
        srcs = re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', html, flags=re.I)
        if 'class="math' in html:
            with_math += 1
            assert srcs, page
        for src in srcs:
            assert not src.startswith(("http:", "https:", "//")), (page, src)
            assert (page.parent / src.split("?")[0]).resolve().exists(), (page, src)
    assert with_math > 20


@pytest.mark.docs
def test_notation_specification_and_bibliography_pages_exist(site):
    for name in ("notation.html", "specification.html", "bibliography.html"):
        assert (site / name).exists(), name
    gd = (site / "proofs" / "theorems" / "gd.html").read_text()
    assert "bibliography.html#" in gd            # citations link into the bibliography
