"""`python -m paperbot` is the `paperbot` command."""

from paperbot.cli import main

main()
