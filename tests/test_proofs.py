"""Run every SymPy check script beside the proofs/ pages (each check_* function asserts one
derivation step exactly), and check that the pages, the registry and the tests point at each
other (traceability)."""

from __future__ import annotations

import ast
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


def _check_functions():
    out = []
    for script in sorted(CHECKS.glob("*.py")):
        if script.name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(f"proof_checks_{script.stem}", script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out += [pytest.param(getattr(module, name), id=f"{script.stem}::{name}")
                for name in dir(module) if name.startswith("check_")]
    return out


@pytest.mark.parametrize("check", _check_functions())
def test_sympy_check(check):
    check()


# ------------------------------------------------------------------------------ traceability

STATUSES = {"stated", "derived", "checked", "tested"}


def front_matter(path: Path) -> dict:
    """The YAML front matter of a page: `key: value` lines and `  - item` lists."""
    text = path.read_text()
    assert text.startswith("---\n"), f"{path} has no front matter"
    block = text[4:text.index("\n---\n", 4)]
    meta: dict = {}
    key = None
    for line in block.splitlines():
        if line.startswith("  - "):
            meta.setdefault(key, []).append(line[4:].strip())
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip()
            if value.strip():
                meta[key] = value.strip()
    return meta


PAGES = sorted(p for p in PROOFS.rglob("*.md") if p.name != "index.md")


def labels(path: Path) -> set[str]:
    return set(re.findall(r"^\(([\w-]+)\)=$", path.read_text(), flags=re.M))


def test_every_page_is_linked_and_in_the_index():
    index = (PROOFS / "index.md").read_text()
    for page in PAGES:
        assert str(page.relative_to(PROOFS).with_suffix("")) in index, page
        assert labels(page), f"{page} defines no label"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(PROOFS)))
def test_page_front_matter_points_at_real_code_tests_and_checks(page):
    meta = front_matter(page)
    assert meta.get("status") in STATUSES, page
    module_name, _, attr = meta["implements"].rpartition(".")
    assert hasattr(importlib.import_module(module_name), attr), meta["implements"]
    for node in meta.get("tests", []):
        file, _, func = node.partition("::")
        tree = ast.parse((ROOT / file).read_text())
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert func in names, f"{page}: {node} does not exist"
    for check in meta.get("checks", []):
        file, _, func = check.partition("::")
        tree = ast.parse((PROOFS / file).read_text())
        assert func in {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}, check
    if meta["status"] == "checked":
        assert meta.get("checks"), f"{page} claims 'checked' without checks"


def test_every_registry_spec_points_at_an_existing_page():
    from refopt.registry import SPECS
    all_labels = set().union(*(labels(p) for p in PAGES))
    for spec in SPECS.values():
        assert spec.proof in all_labels, f"{spec.name}: no page defines ({spec.proof})="


def test_every_check_function_is_cited_by_a_page():
    cited = {c for p in PAGES for c in front_matter(p).get("checks", [])}
    for script in CHECKS.glob("*.py"):
        if script.name.startswith("_"):
            continue
        tree = ast.parse(script.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("check_"):
                assert f"checks/{script.name}::{node.name}" in cited, node.name


def _public_symbols() -> set[str]:
    import refopt
    names = {f"refopt.{n}" for n in refopt.__all__ if not isinstance(getattr(refopt, n), type(refopt))}
    for sub in ("nn", "problems", "testing", "research", "ode", "optim"):
        module = importlib.import_module(f"refopt.{sub}")
        names |= {f"refopt.{sub}.{n}" for n in getattr(module, "__all__", [])
                  if not isinstance(getattr(module, n), type(refopt))}
    return names


def test_every_public_symbol_is_in_the_api_docs():
    api = (ROOT / "docs" / "api.rst").read_text()
    documented = set(re.findall(r"^\.\. auto(?:function|class|data):: ([\w.]+)", api, flags=re.M))
    documented |= set(re.findall(r"^   ([\w.]+)$", api, flags=re.M))  # autosummary entries
    missing = sorted(name for name in _public_symbols() if name not in documented)
    assert not missing, missing
