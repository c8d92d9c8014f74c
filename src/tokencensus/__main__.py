"""`python -m tokencensus` runs the CLI."""

from tokencensus.cli import main

main()
