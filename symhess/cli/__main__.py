"""``python -m symhess.cli``."""

from . import main

main()
