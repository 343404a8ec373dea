"""``python -m benzoredux``: the same command line as ``benzoredux``."""

from benzoredux.cli import main

main()
