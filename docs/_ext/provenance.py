"""Sphinx extension: provenance boxes, the status index and the pages of checks and tests.

At ``builder-inited`` it runs every check of proofs/checks/ with its wrong variants (evidence.py)
and writes docs/generated/{status,checks,tests}.md. At ``source-read`` it inserts, under the title
of every page of proofs/ that has front matter, a box "Implements · Checked by · Tested by" with
the computed status: links to the API entry and its source (viewcode), to each check's code and
wrong variants, and to each test's code. Nothing here is specific to one page: a new page with
the same front matter gets the same box.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import evidence as ev
import trajectories

GENERATED = "generated"


def _anchor(ref: str, kind: str) -> str:
    """checks/x.py::check_y -> check-x-check_y; tests/test_a.py::test_b -> test-test_a-test_b."""
    file, _, func = ref.partition("::")
    return f"{kind}-{Path(file).stem}-{func}".replace("_", "-").lower()


def _documented_names(srcdir: Path) -> dict[int, str]:
    """id(object) -> the name under which docs/api.rst documents it (shortest wins)."""
    api = (srcdir / "api.rst").read_text()
    names = set(re.findall(r"^\.\. auto(?:function|class|data):: ([\w.]+)", api, flags=re.M))
    names |= set(re.findall(r"^   (refopt[\w.]+)$", api, flags=re.M))
    out: dict[int, str] = {}
    for name in sorted(names, key=len, reverse=True):
        obj = _resolve(name)
        if obj is not None:
            out[id(obj)] = name
    return out


def _resolve(dotted: str):
    module, _, attr = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError):
        return None


def _implements_md(dotted: str, depth: int, api_names: dict[int, str]) -> str:
    obj = _resolve(dotted)
    if obj is None:
        return f"`{dotted}`"
    shown = api_names.get(id(obj))
    text = f"{{py:obj}}`{shown}`" if shown else f"`{dotted}`"
    module = getattr(obj, "__module__", "")
    qual = getattr(obj, "__qualname__", dotted.rpartition(".")[2])
    up = "../" * depth
    href = f"{up}_modules/{module.replace('.', '/')}.html#{qual}"
    src = f'<a class="reference external" href="{href}">source</a>'
    return f"{text} ({src})" if shown else text


def _box(page: ev.PageEvidence, depth: int, api_names: dict[int, str]) -> str:
    killed, total = page.variants
    unproved = page.n_statements - page.n_proved
    cited = f"; {unproved} cited or measured only" if unproved else ""
    checks = ", ".join(f"{{ref}}`{c.split('::')[1]} <{_anchor(c, 'check')}>`" for c in page.checks)
    tests = ", ".join(f"{{ref}}`{t.split('::')[1]} <{_anchor(t, 'test')}>`" for t in page.tests)
    lines = [
        f":::{{admonition}} Provenance · status: {page.status}",
        ":class: provenance",
        "",
        f"**Implements** {_implements_md(page.implements, depth, api_names)}",
        "",
        f"**Checked by** {checks} ({killed} of {total} registered wrong variants fail)"
        if page.checks else "**Checked by** — (no machine check of this page's derivation)",
        "",
        f"**Tested by** {tests}" if page.tests else "**Tested by** —",
        "",
        f"**Statements** {page.n_proved} of {page.n_statements} proved on this page{cited} · "
        "{ref}`how the status is computed <status-index>`",
        ":::",
        "",
    ]
    return "\n".join(lines)


def _status_page(pages: list[ev.PageEvidence], results: dict[str, ev.CheckResult]) -> str:
    killed, total, covered, n = ev.mutation_score(results)
    failing = [r.ref for r in results.values() if not r.passed]
    weak = [f"{r.ref}: {name}" for r in results.values() for name, ok in r.variants.items() if not ok]
    counts = {s: sum(1 for p in pages if p.status == s) for s in ev.STATUSES}
    rows = []
    for p in pages:
        k, t = p.variants
        rows.append(f"| {{ref}}`{p.label}` | **{p.status}** | {p.n_proved}/{p.n_statements} | "
                    f"{len(p.checks)} | {k}/{t} | {len(p.tests)} |")
    body = [
        "(status-index)=",
        "# Status of every derivation and theorem",
        "",
        "Computed at build time from the evidence, never typed on a page "
        "(`docs/_ext/evidence.py`):",
        "",
        "- **proved here + machine-checked**: the page carries a proof and lists checks; every check "
        "passes and each has wrong variants of its claim registered, all of which fail;",
        "- **proved here**: a proof on the page, without (complete) machine checks;",
        "- **measured**: no proof here, but a test asserts the statement on the code and a mutation "
        "test shows that test can fail;",
        "- **cited**: the statement rests on the cited source.",
        "",
        "The label is per page; the column *proved* counts the theorem/lemma blocks of "
        "the page that are followed by their own proof, so a page that proves some statements and "
        "cites others shows both.",
        "",
        "## Check-mutation score",
        "",
        f"**{killed} of {total}** registered wrong variants make their check fail; "
        f"**{covered} of {n}** checks register at least one wrong variant; "
        f"**{n - len(failing)} of {n}** checks pass.",
        "",
        *(["Failing checks: " + ", ".join(f"`{f}`" for f in failing), ""] if failing else []),
        *(["Wrong variants that pass (weak checks): " + ", ".join(f"`{w}`" for w in weak), ""]
          if weak else []),
        "Pages by status: " + ", ".join(f"{s}: {c}" for s, c in counts.items()) + ".",
        "",
        "## Pages",
        "",
        "| page | status | proved | checks | variants failing | tests |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    return "\n".join(body)


def _checks_page(results: dict[str, ev.CheckResult], fns: dict) -> str:
    body = ["(checks-index)=", "# Machine checks", "",
            "Every check function of `proofs/checks/`, with its wrong variants (each must make the "
            "check fail) and its source. Run by `tests/test_proofs.py`.", ""]
    for ref, res in results.items():
        file, _, func = ref.partition("::")
        variants = ", ".join(f"`{name}` ({'fails ✓' if ok else 'PASSES ✗'})"
                             for name, ok in res.variants.items()) or "none registered"
        body += [f"({_anchor(ref, 'check')})=", f"## `{func}`", "",
                 f"`proofs/{file}` · {'passes' if res.passed else 'FAILS: ' + res.error} · "
                 f"wrong variants: {variants}", "",
                 f"```{{literalinclude}} ../../proofs/{file}", f":pyobject: {func}",
                 ":language: python", "```", ""]
    return "\n".join(body)


def _tests_page(pages: list[ev.PageEvidence]) -> str:
    refs = sorted({t for p in pages for t in p.tests})
    body = ["(tests-index)=", "# Tests cited by the derivation pages", "",
            "The code of every test that a page of `proofs/` lists as asserting its statements.", ""]
    for ref in refs:
        file, _, func = ref.partition("::")
        body += [f"({_anchor(ref, 'test')})=", f"## `{func}`", "", f"`{file}`", "",
                 f"```{{literalinclude}} ../../{file}", f":pyobject: {func}",
                 ":language: python", "```", ""]
    return "\n".join(body)


def _registry_page() -> str:
    from refopt.registry import SPECS
    rows = [f"| `{s.name}` | `{getattr(s.factory, '__module__', '')}` | {s.family} | {s.paper} | "
            f"{{ref}}`{s.proof}` |" for s in SPECS.values()]
    return "\n".join(["| rule | module | family | source | page |", "|---|---|---|---|---|", *rows, ""])


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def builder_inited(app) -> None:
    out = Path(app.srcdir) / GENERATED
    out.mkdir(exist_ok=True)
    fns = ev.check_functions()
    results = {ref: ev.run_check(ref, fn) for ref, fn in fns.items()}
    pages = ev.all_evidence(results)
    app.refopt_pages = {str(p.path.relative_to(ev.ROOT).with_suffix("")): p for p in pages}
    app.refopt_api_names = _documented_names(Path(app.srcdir))
    _write_if_changed(out / "status.md", _status_page(pages, results))
    _write_if_changed(out / "checks.md", _checks_page(results, fns))
    _write_if_changed(out / "tests.md", _tests_page(pages))
    _write_if_changed(out / "registry.md", _registry_page())
    app.refopt_figures = {}
    if app.config.refopt_trajectories:
        figdir = out / "trajectories"
        figdir.mkdir(exist_ok=True)
        for p in pages:
            result = trajectories.figure(p.label, figdir)
            if result is not None:
                app.refopt_figures[p.label] = result


def source_read(app, docname: str, source: list[str]) -> None:
    page = getattr(app, "refopt_pages", {}).get(docname)
    if page is None:
        return
    text = source[0]
    title = re.search(r"^# .+$", text, flags=re.M)
    if title is None:
        return
    box = _box(page, docname.count("/"), app.refopt_api_names)
    figure = app.refopt_figures.get(page.label)
    tail = trajectories.section(page.label, figure) if figure else ""
    source[0] = text[:title.end()] + "\n\n" + box + text[title.end():] + tail


def setup(app):
    app.add_config_value("refopt_trajectories", True, "env")
    app.connect("builder-inited", builder_inited)
    app.connect("source-read", source_read)
    return {"parallel_read_safe": True, "env_version": 1}
