"""How long-running core work reports how far it got: a plain callback the caller supplies.

`progress(done, total)` is called now and then (total None when unknown); the core never draws
anything itself, so the command line decides between a bar on a terminal and plain lines.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int | None], None]

__all__ = ["Progress"]
