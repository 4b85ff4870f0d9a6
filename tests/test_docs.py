"""Build the documentation site exactly as documented, with warnings as errors (-W -n), so a
page that references a missing label, symbol or test breaks the suite."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.docs
def test_site_builds_with_warnings_as_errors(tmp_path):
    pytest.importorskip("sphinx", reason="the docs extra is not installed")
    for module in ("myst_parser", "sphinx_proof", "sphinx_gallery", "matplotlib"):
        pytest.importorskip(module, reason="the docs extra is not installed")
    out = tmp_path / "html"
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q",
                             "-b", "html", "docs", str(out)], cwd=ROOT, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    pages = list(out.rglob("*.html"))
    # a malformed MyST fence renders a directive as literal text instead of failing: catch it
    leaked = [p.name for p in pages if "```{prf:" in p.read_text()]
    assert not leaked, leaked
    # proof blocks are rendered as sphinx-proof admonitions, with numbers
    adam = (out / "proofs" / "rules" / "adam.html").read_text()
    assert 'class="proof lemma admonition"' in adam
    assert re.search(r"Lemma \d+", adam) and re.search(r"Algorithm \d+", adam)
    # every example ran and produced its figure
    gallery = out / "_images"
    for name in ("integrator_orders", "rsgd_teacher_student", "agd_sgd_fraction",
                 "bigbatch_trajectories"):
        assert list(gallery.glob(f"sphx_glr_{name}_*.png")), name
