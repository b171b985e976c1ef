"""`python -m erpsync` runs the CLI."""

from erpsync.cli import main

if __name__ == "__main__":
    main()
