"""The mutant catalogue: loading ``mutants/*.toml`` and checking that every mutant applies."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:   # Python 3.10
    import tomli as tomllib

MUTANT_DIR = Path(__file__).parent / "mutants"
REQUIRED = ("id", "file", "find", "replace", "tests", "why")


@dataclass(frozen=True)
class Mutant:
    """One planted mistake: ``find`` (occurring exactly once in ``file``) becomes ``replace``.

    ``tests`` are strings: a test file (``tests/test_exact.py``) or node
    (``tests/test_exact.py::test_x``), each run by pytest on its own in the order listed until
    one fails; or an option (``-k adam and not lazy``: the rest of the string is the
    expression) passed to every one of those runs. ``equivalent`` is non-empty
    only for a mutant with no observable change, and says why; such a mutant is not run.
    """

    id: str
    area: str
    file: str
    find: str
    replace: str
    tests: tuple[str, ...]
    why: str
    equivalent: str = ""
    smoke: bool = False
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def options(self) -> list[str]:
        """The pytest options among ``tests`` (``-k EXPR``, ``-m EXPR``, ...), for every run."""
        return [arg for entry in self.tests if entry.startswith("-") for arg in _split(entry)]

    @property
    def test_paths(self) -> list[str]:
        """The test files/nodes among ``tests``, in order: one pytest run each."""
        return [arg for entry in self.tests if not entry.startswith("-") for arg in _split(entry)]

    def runs(self) -> list[tuple[str, ...]]:
        """The pytest argument lists, one per test path, in the order listed."""
        return [(path, *self.options) for path in self.test_paths]


def _split(entry: str) -> list[str]:
    """``"-k adam or nadam"`` is one option and its whole expression; other entries are split
    like a shell line."""
    if entry[:3] in ("-k ", "-m "):
        expr = entry[3:].strip()
        if len(expr) > 1 and expr[0] == expr[-1] and expr[0] in "'\"":
            expr = expr[1:-1]
        return [entry[:2], expr]
    return shlex.split(entry)


def load(areas: list[str] | None = None, mutant_dir: Path = MUTANT_DIR) -> list[Mutant]:
    """The mutants of the named areas (all areas when None), in file order."""
    files = sorted(mutant_dir.glob("*.toml"))
    known = [f.stem for f in files]
    if areas:
        unknown = sorted(set(areas) - set(known))
        if unknown:
            raise ValueError(f"unknown area(s) {unknown}; known: {known}")
        files = [f for f in files if f.stem in areas]
    mutants = []
    for path in files:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        for i, entry in enumerate(data.get("mutant", [])):
            missing = [k for k in REQUIRED if k not in entry]
            if missing:
                raise ValueError(f"{path.name}: mutant #{i} ({entry.get('id', '?')}) lacks {missing}")
            tests = entry["tests"]
            if isinstance(tests, str) or not all(isinstance(t, str) for t in tests):
                raise ValueError(f"{path.name}: {entry['id']}: tests must be a list of strings")
            known_keys = set(REQUIRED) | {"equivalent", "smoke"}
            mutants.append(Mutant(
                id=entry["id"], area=path.stem, file=entry["file"], find=entry["find"],
                replace=entry["replace"], tests=tuple(tests), why=entry["why"],
                equivalent=entry.get("equivalent", ""), smoke=bool(entry.get("smoke", False)),
                extra={k: v for k, v in entry.items() if k not in known_keys}))
    return mutants


def check(mutants: list[Mutant], root: Path) -> list[str]:
    """Problems with the catalogue against the tree at ``root`` (empty when every mutant applies).

    Ids are unique; every ``find`` occurs exactly once in its file and differs from ``replace``;
    every test path exists; a non-equivalent mutant names at least one test path.
    """
    problems, seen = [], set()
    for m in mutants:
        where = f"[{m.area}] {m.id}"
        if m.id in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(m.id)
        if m.extra:
            problems.append(f"{where}: unknown keys {sorted(m.extra)}")
        if m.find == m.replace:
            problems.append(f"{where}: find equals replace")
        src = root / m.file
        if not src.is_file():
            problems.append(f"{where}: no file {m.file}")
        else:
            count = src.read_text(encoding="utf-8").count(m.find)
            if count != 1:
                problems.append(f"{where}: find occurs {count} times in {m.file} (must be once)")
        try:
            paths = m.test_paths
        except ValueError as exc:   # unbalanced quotes
            problems.append(f"{where}: tests do not parse: {exc}")
            continue
        if not m.equivalent and not paths:
            problems.append(f"{where}: no test file named")
        for p in paths:
            if not (root / p.split("::")[0]).exists():
                problems.append(f"{where}: no test path {p}")
    return problems
