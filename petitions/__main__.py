"""`python -m petitions` runs the command line."""

from petitions.cli import main

if __name__ == "__main__":
    main()
