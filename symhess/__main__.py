"""``python -m symhess`` runs the command line."""

from symhess.cli import main

main()
