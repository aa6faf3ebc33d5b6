"""Allows `python -m ftjobs`."""

from ftjobs.cli import main

main()
