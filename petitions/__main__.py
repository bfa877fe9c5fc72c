"""`python -m petitions` runs the command line."""

from petitions.cli import main

main()
