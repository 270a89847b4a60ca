"""`python -m mlmon_cli` runs the CLI."""

from .cli import main

main()
