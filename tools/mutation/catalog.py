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

    ``tests`` are pytest arguments, one string each, split like a shell line: a file
    (``tests/test_exact.py``), a node (``tests/test_exact.py::test_x``) or an option
    (``-k "adam and not lazy"``) that applies to the whole run. ``equivalent`` is non-empty
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
    def pytest_args(self) -> list[str]:
        return [arg for entry in self.tests for arg in shlex.split(entry)]

    @property
    def test_paths(self) -> list[str]:
        """The file paths among the pytest arguments (node ids without their ``::`` part)."""
        args, paths, skip = self.pytest_args, [], False
        for arg in args:
            if skip:
                skip = False
            elif arg.startswith("-"):
                skip = arg in ("-k", "-m")
            else:
                paths.append(arg.split("::")[0])
        return paths


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
            if not (root / p).exists():
                problems.append(f"{where}: no test path {p}")
    return problems
