"""The `paperbot` command: parse arguments, build Settings, call bootstrap and the core.

The error tree (paperbot.core.errors) is mapped here, once: its message on stderr, one
`paperbot: ` line each, and the class's exit code.
"""

from __future__ import annotations

import logging
import sys

# Importing the command modules registers their commands on the Typer app.
from paperbot.cli import admin, channels, papers  # noqa: F401
from paperbot.cli.common import app
from paperbot.core.errors import PaperbotError


def main() -> None:
    try:
        app()
    except PaperbotError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            # Indented lines continue the one above (a file's bad lines): no prefix of their own.
            sys.stderr.write(f"{line}\n" if line.startswith(" ") else f"paperbot: {line}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        # The message of a library's exception may carry SQL, data or a URL with a password:
        # name the class only; the details go to the debug log.
        logging.getLogger("paperbot").debug("unexpected failure", exc_info=True)
        sys.stderr.write(
            f"paperbot: unexpected error ({type(exc).__name__}); run with"
            " PAPERBOT_LOG_LEVEL=DEBUG for details\n"
        )
        sys.exit(1)
