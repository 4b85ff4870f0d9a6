"""Mutation testing over a curated list of plausible implementer mistakes.

Each mutant (``tools/mutation/mutants/<area>.toml``) replaces one snippet of one source file and
names the few test files that should notice. The runner copies the repository once per job into
a temporary directory, plants each mutant there in turn, runs pytest on the mapped tests and
restores the file. See ``docs/mutation.md``.
"""

from tools.mutation.catalog import Mutant, check, load

__all__ = ["Mutant", "check", "load"]
