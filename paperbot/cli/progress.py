"""Progress of long CLI work on stderr: a bar on a terminal, a plain line now and then otherwise.

Core work reports through plain `progress(done, total)` callbacks (paperbot.core.progress);
`ProgressReporter.stage(label)` makes one. On a terminal each stage is a rich progress bar; in
a pipe or a log file a stage prints one line every `interval` seconds and a last "done" line,
and nothing at all when it finishes sooner, so short runs stay quiet in scripts.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal, TextIO

from paperbot.core.progress import Progress

Unit = Literal["papers", "bytes"]
PLAIN_INTERVAL_SECONDS = 10.0


def amount(done: int, total: int | None, unit: Unit) -> str:
    """`1,200/5,000 papers` or `1.2/5.0 MB`."""
    if unit == "bytes":
        mb = 1024 * 1024
        return f"{done / mb:.1f}/{total / mb:.1f} MB" if total else f"{done / mb:.1f} MB"
    return f"{done:,}/{total:,} papers" if total is not None else f"{done:,} papers"


class _PlainStage:
    def __init__(self, out: TextIO, label: str, unit: Unit, interval: float, clock: Any) -> None:
        self.out, self.label, self.unit = out, label, unit
        self.interval, self.clock = interval, clock
        self.started = self.last = clock()
        self.printed = False
        self.finished = False

    def __call__(self, done: int, total: int | None) -> None:
        if self.finished:
            return
        now = self.clock()
        if total is not None and done >= total:
            self.finished = True
            if self.printed:
                took = now - self.started
                self._line(f"done, {amount(done, total, self.unit)} in {took:.0f} s")
            return
        if now - self.last >= self.interval:
            self.last = now
            share = f" ({100 * done // total}%)" if total else ""
            self._line(amount(done, total, self.unit) + share)

    def _line(self, text: str) -> None:
        self.printed = True
        self.out.write(f"paperbot: {self.label}: {text}\n")
        self.out.flush()


class ProgressReporter:
    """Hands out one progress callback per stage of a command; use it as a context manager."""

    def __init__(
        self,
        out: TextIO | None = None,
        *,
        terminal: bool | None = None,
        interval: float = PLAIN_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.out = out if out is not None else sys.stderr
        if terminal is None:
            terminal = _is_terminal(self.out)
        self.terminal = terminal
        self.interval, self.clock = interval, clock
        self._bars: Any = None

    def stage(self, label: str, unit: Unit = "papers") -> Progress:
        if not self.terminal:
            return _PlainStage(self.out, label, unit, self.interval, self.clock)
        task: list[Any] = []  # the bar appears with the stage's first report

        def report(done: int, total: int | None) -> None:
            bars = self._open_bars()
            if not task:
                task.append(bars.add_task(label, total=total, amount=""))
            bars.update(task[0], completed=done, total=total, amount=amount(done, total, unit))

        return report

    def _open_bars(self) -> Any:
        if self._bars is None:
            # Imported here: only a terminal needs rich, and `paperbot search` stays light.
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeRemainingColumn,
            )

            self._bars = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[amount]}"),
                TimeRemainingColumn(),
                console=Console(file=self.out),
            )
            self._bars.start()
        return self._bars

    def close(self) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None

    def __enter__(self) -> ProgressReporter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _is_terminal(out: TextIO) -> bool:
    try:
        return out.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


__all__ = ["PLAIN_INTERVAL_SECONDS", "ProgressReporter", "amount"]
