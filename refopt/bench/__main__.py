"""``python -m refopt.bench``: see :mod:`refopt.bench`."""

from refopt.bench import main

main()
