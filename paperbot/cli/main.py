"""The `paperbot` command: parse arguments, build Settings, call bootstrap and the core."""

from __future__ import annotations

import logging
import sys

# Importing the command modules registers their commands on the Typer app.
from paperbot.cli import admin, channels, papers  # noqa: F401
from paperbot.cli.common import BadInput, app
from paperbot.config import ConfigError


def main() -> None:
    try:
        app()
    except (BadInput, ConfigError) as exc:
        sys.stderr.write(f"paperbot: {exc}\n")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        logging.getLogger("paperbot").debug("unexpected failure", exc_info=True)
        sys.stderr.write(f"paperbot: unexpected error: {type(exc).__name__}: {exc}\n")
        sys.exit(1)
