"""Evidence behind every page of proofs/: front matter, registered checks and their wrong
variants, and the status label computed from them (never typed on the page).

Used by the Sphinx build (provenance boxes, the status index) and by tests/test_proofs.py, so the
site and the suite compute the same thing. A page's front matter names what it implements
(``implements``), the tests that assert its statements on the code (``tests``) and the check
functions in proofs/checks/ that verify its derivation steps (``checks``). A typed ``status`` key,
if a page still has one, is ignored.

Status, from strongest to weakest:

- **proved here + machine-checked**: the page carries a proof, lists at least one check, every
  listed check passes and each has at least one registered wrong variant, all of which fail;
- **proved here**: the page carries a proof, but its checks are missing or incomplete;
- **measured**: no proof here, but a listed test asserts the statement on the code and a listed
  mutation test shows that test can fail;
- **cited**: none of the above — the statement rests on the cited source.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROOFS = ROOT / "proofs"
CHECKS = PROOFS / "checks"

STATUSES = ("proved here + machine-checked", "proved here", "measured", "cited")
PROOF_BLOCK = re.compile(r"^(```|:::)\{prf:proof\}", flags=re.M)
STATEMENT_OR_PROOF = re.compile(r"^(?:```|:::)\{prf:(theorem|lemma|corollary|proposition|proof)\}",
                                flags=re.M)


def statements(text: str) -> tuple[int, int]:
    """(statements, statements followed by a proof block) among theorem/lemma/corollary/
    proposition blocks: a statement without its own proof is cited (or only measured)."""
    kinds = STATEMENT_OR_PROOF.findall(text)
    total = sum(1 for k in kinds if k != "proof")
    proved = sum(1 for a, b in zip(kinds, kinds[1:]) if a != "proof" and b == "proof")
    return total, proved


def front_matter(path: Path) -> dict:
    """The YAML front matter of a page: ``key: value`` lines and ``  - item`` lists."""
    text = path.read_text()
    if not text.startswith("---\n"):
        raise ValueError(f"{path} has no front matter")
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


def pages() -> list[Path]:
    return sorted(p for p in PROOFS.rglob("*.md") if p.name != "index.md")


def page_label(path: Path) -> str:
    found = re.search(r"^\(([\w-]+)\)=$", path.read_text(), flags=re.M)
    if not found:
        raise ValueError(f"{path} defines no label")
    return found.group(1)


def page_title(path: Path) -> str:
    found = re.search(r"^# (.+)$", path.read_text(), flags=re.M)
    return found.group(1).strip() if found else path.stem


def check_modules() -> dict[str, object]:
    """script stem -> loaded module, for every proofs/checks/*.py not starting with '_'."""
    if str(CHECKS) not in sys.path:
        sys.path.insert(0, str(CHECKS))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    out = {}
    for script in sorted(CHECKS.glob("*.py")):
        if script.name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(f"proof_checks_{script.stem}", script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out[script.stem] = module
    return out


def check_functions() -> dict[str, object]:
    """'checks/<script>.py::<name>' -> function, for every check_* function."""
    out = {}
    for stem, module in check_modules().items():
        for name in sorted(dir(module)):
            if name.startswith("check_"):
                out[f"checks/{stem}.py::{name}"] = getattr(module, name)
    return out


@dataclass
class CheckResult:
    ref: str
    passed: bool
    error: str = ""
    variants: dict[str, bool] = field(default_factory=dict)   # name -> the variant failed (good)

    @property
    def sound(self) -> bool:
        """Passes, and has at least one wrong variant, every one of which fails."""
        return self.passed and bool(self.variants) and all(self.variants.values())


def run_check(ref: str, fn) -> CheckResult:
    try:
        fn()
        result = CheckResult(ref, True)
    except Exception as err:                      # noqa: BLE001 — reported, not hidden
        result = CheckResult(ref, False, f"{type(err).__name__}: {err}")
    for name, kwargs in getattr(fn, "wrong_variants", {}).items():
        try:
            fn(**kwargs)
            result.variants[name] = False         # the wrong claim passed: the check is weak
        except AssertionError:
            result.variants[name] = True
        except Exception:                         # noqa: BLE001 — a crash is not a refutation
            result.variants[name] = False
    return result


def run_all_checks() -> dict[str, CheckResult]:
    return {ref: run_check(ref, fn) for ref, fn in check_functions().items()}


@dataclass
class PageEvidence:
    path: Path
    label: str
    title: str
    implements: str
    tests: list[str]
    checks: list[str]
    has_proof: bool
    check_results: list[CheckResult]
    n_statements: int = 0
    n_proved: int = 0

    @property
    def mutation_tests(self) -> list[str]:
        return [t for t in self.tests if "mutation" in t.split("::")[-1]]

    @property
    def status(self) -> str:
        return status_of(self.has_proof, self.check_results, self.tests, self.mutation_tests)

    @property
    def variants(self) -> tuple[int, int]:
        """(wrong variants that fail, wrong variants registered) over this page's checks."""
        marks = [ok for r in self.check_results for ok in r.variants.values()]
        return sum(marks), len(marks)


def status_of(has_proof: bool, check_results: list[CheckResult], tests: list[str],
              mutation_tests: list[str]) -> str:
    if has_proof and check_results and all(r.sound for r in check_results):
        return STATUSES[0]
    if has_proof:
        return STATUSES[1]
    if tests and mutation_tests:
        return STATUSES[2]
    return STATUSES[3]


def page_evidence(path: Path, results: dict[str, CheckResult]) -> PageEvidence:
    meta = front_matter(path)
    checks = meta.get("checks", [])
    missing = [c for c in checks if c not in results]
    if missing:
        raise ValueError(f"{path}: unknown checks {missing}")
    text = path.read_text()
    total, proved = statements(text)
    return PageEvidence(path, page_label(path), page_title(path), meta.get("implements", ""),
                        meta.get("tests", []), checks, bool(PROOF_BLOCK.search(text)),
                        [results[c] for c in checks], total, proved)


def all_evidence(results: dict[str, CheckResult] | None = None) -> list[PageEvidence]:
    results = run_all_checks() if results is None else results
    return [page_evidence(p, results) for p in pages()]


def mutation_score(results: dict[str, CheckResult]) -> tuple[int, int, int, int]:
    """(variants that fail, variants registered, checks with ≥ 1 variant, checks)."""
    marks = [ok for r in results.values() for ok in r.variants.values()]
    covered = sum(1 for r in results.values() if r.variants)
    return sum(marks), len(marks), covered, len(results)
