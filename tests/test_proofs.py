"""The derivation pages' machine checks and their traceability.

Every ``check_*`` function in proofs/checks/ must pass, must register at least one wrong variant
of its claim, and every wrong variant must make it fail (so a check that cannot fail is caught).
The pages, the registry, the checks and the tests must point at each other, and each page's
status is computed from that evidence (docs/_ext/evidence.py, shared with the site build).
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROOFS = ROOT / "proofs"
CHECKS = PROOFS / "checks"
sys.path.insert(0, str(CHECKS))
_spec = importlib.util.spec_from_file_location("refopt_docs_evidence", ROOT / "docs" / "_ext" / "evidence.py")
evidence = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = evidence          # dataclasses look their module up while being built
_spec.loader.exec_module(evidence)

CHECK_FUNCTIONS = evidence.check_functions()
VARIANTS = [pytest.param(ref, name, id=f"{ref.split('/')[-1]}::{name}")
            for ref, fn in CHECK_FUNCTIONS.items() for name in getattr(fn, "wrong_variants", {})]


@functools.cache
def result(ref: str):
    """Each check and its wrong variants run once per session (the status test reuses them)."""
    return evidence.run_check(ref, CHECK_FUNCTIONS[ref])


@pytest.mark.parametrize("ref", CHECK_FUNCTIONS, ids=[r.split("/")[-1] for r in CHECK_FUNCTIONS])
def test_check_passes_and_registers_a_wrong_variant(ref):
    res = result(ref)
    assert res.passed, res.error
    assert res.variants, f"{ref} registers no wrong variant"


@pytest.mark.parametrize("ref,name", VARIANTS)
def test_wrong_variant_makes_its_check_fail(ref, name):
    """A wrong claim must raise AssertionError (a crash is not a refutation: it counts as passing)."""
    assert result(ref).variants[name], f"{ref}: the wrong variant {name!r} passes"


def test_every_check_takes_its_claim_as_an_argument():
    """A check's claim is a keyword argument (so a wrong variant can replace it); a check without
    parameters could only compare the page's formula with itself or a constant."""
    for ref, fn in CHECK_FUNCTIONS.items():
        params = fn.__code__.co_varnames[:fn.__code__.co_argcount]
        assert params, f"{ref}: the claim must be a keyword argument"


def test_symbolic_adapter_runs_a_rule_and_rejects_what_refopt_rejects():
    """_symbolic.run executes refopt's own update on SymPy symbols: SGD's first step is exact."""
    import sympy as sp
    from _symbolic import Sym, run

    import refopt
    g, th = sp.symbols("g theta0", real=True)
    assert run(refopt.sgd(lr=0.25), [g], th)[1] == th - g / 4
    with pytest.raises(TypeError, match="booleans"):
        Sym(True)


# ------------------------------------------------------------------------------ traceability

PAGES = evidence.pages()


def labels(path: Path) -> set[str]:
    return set(re.findall(r"^\(([\w-]+)\)=$", path.read_text(), flags=re.M))


def test_every_page_is_linked_and_in_the_index():
    index = (PROOFS / "index.md").read_text()
    for page in PAGES:
        assert str(page.relative_to(PROOFS).with_suffix("")) in index, page
        assert labels(page), f"{page} defines no label"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(PROOFS)))
def test_page_front_matter_points_at_real_code_tests_and_checks(page):
    meta = evidence.front_matter(page)
    module_name, _, attr = meta["implements"].rpartition(".")
    assert hasattr(importlib.import_module(module_name), attr), meta["implements"]
    for node in meta.get("tests", []):
        file, _, func = node.partition("::")
        tree = ast.parse((ROOT / file).read_text())
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert func in names, f"{page}: {node} does not exist"
    for check in meta.get("checks", []):
        assert check in CHECK_FUNCTIONS, f"{page}: {check} does not exist"


def test_every_registry_spec_points_at_an_existing_page():
    from refopt.registry import SPECS
    all_labels = set().union(*(labels(p) for p in PAGES))
    for spec in SPECS.values():
        assert spec.proof in all_labels, f"{spec.name}: no page defines ({spec.proof})="


def test_every_check_function_is_cited_by_a_page():
    cited = {c for p in PAGES for c in evidence.front_matter(p).get("checks", [])}
    assert set(CHECK_FUNCTIONS) <= cited, sorted(set(CHECK_FUNCTIONS) - cited)


# ------------------------------------------------------------------------------ computed status

@pytest.fixture(scope="module")
def page_evidence():
    return evidence.all_evidence({ref: result(ref) for ref in CHECK_FUNCTIONS})


def test_status_is_computed_and_nothing_cited_is_labelled_checked(page_evidence):
    for page in page_evidence:
        assert page.status in evidence.STATUSES
        if page.status == evidence.STATUSES[0]:
            assert page.has_proof and page.check_results
            assert all(r.passed and r.variants and all(r.variants.values()) for r in page.check_results)
        if not page.has_proof:
            assert page.status in evidence.STATUSES[2:], page.path


def test_status_rules_on_synthetic_evidence():
    """The status function itself: a failing check or a surviving wrong variant demotes a page,
    and a page without a proof is never 'proved here'."""
    good = evidence.CheckResult("c", True, variants={"w": True})
    weak = evidence.CheckResult("c", True, variants={"w": False})
    failing = evidence.CheckResult("c", False, variants={"w": True})
    bare = evidence.CheckResult("c", True)
    s = evidence.STATUSES
    assert evidence.status_of(True, [good], [], []) == s[0]
    for bad in (weak, failing, bare):
        assert evidence.status_of(True, [good, bad], [], []) == s[1]
    assert evidence.status_of(False, [good], ["t::test_x"], ["t::test_mutation_x"]) == s[2]
    assert evidence.status_of(False, [good], ["t::test_x"], []) == s[3]
    assert evidence.status_of(False, [], [], []) == s[3]


def test_a_typed_status_in_front_matter_is_not_trusted(tmp_path, page_evidence):
    """A page that claims 'tested' in its front matter but has no proof and no tests is cited."""
    page = tmp_path / "fake.md"
    page.write_text("---\nimplements: refopt.sgd\nstatus: tested\n---\n\n(fake-page)=\n# Fake\n\nCited.\n")
    assert evidence.page_evidence(page, {}).status == "cited"


def test_no_project_file_cites_the_external_specification_file():
    """The specification is a page of the site (docs/specification.md); no file of the project
    may cite a specification file outside it."""
    name = "ALGORITHMS" + ".md"
    skip = {"_build", "generated", "auto_examples"}
    files = [ROOT / "README.md"] + [p for folder in ("refopt", "proofs", "docs", "tests", "examples")
                                    for p in (ROOT / folder).rglob("*")
                                    if p.is_file() and p.suffix in {".md", ".py", ".rst"}
                                    and not skip & set(p.parts)]
    offenders = [str(p.relative_to(ROOT)) for p in files if name in p.read_text()]
    assert not offenders, offenders


def test_api_docstrings_link_to_their_proof_page():
    """"Proof page:" in a docstring is a real cross-reference (:ref:), never a literal."""
    literal = re.compile(r"Proof page:\s*``")
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "refopt").rglob("*.py")
                 if literal.search(p.read_text())]
    assert not offenders, offenders


def test_every_public_symbol_is_in_the_api_docs():
    import refopt
    names = {f"refopt.{n}" for n in refopt.__all__ if not isinstance(getattr(refopt, n), type(refopt))}
    for sub in ("nn", "problems", "testing", "research", "ode", "optim"):
        module = importlib.import_module(f"refopt.{sub}")
        names |= {f"refopt.{sub}.{n}" for n in getattr(module, "__all__", [])
                  if not isinstance(getattr(module, n), type(refopt))}
    api = (ROOT / "docs" / "api.rst").read_text()
    documented = set(re.findall(r"^\.\. auto(?:function|class|data):: ([\w.]+)", api, flags=re.M))
    documented |= set(re.findall(r"^   ([\w.]+)$", api, flags=re.M))  # autosummary entries
    missing = sorted(name for name in names if name not in documented)
    assert not missing, missing
