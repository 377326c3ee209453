"""The `paperbot` command line."""

from paperbot.cli.main import main

__all__ = ["main"]
