"""The console chat: `/papers ...` lines from stdin, answers on stdout (the local default)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import threading
from datetime import UTC, datetime
from typing import Literal, TextIO

from paperbot.adapters.console import render
from paperbot.core.commands import Caller, Vote
from paperbot.core.limits import MAX_PAPER_REF_CHARS
from paperbot.core.messages import ChannelRef
from paperbot.core.service import Paperbot

CONSOLE = ChannelRef("console", "local", "console")
CALLER = Caller(
    platform="console",
    workspace="local",
    channel="console",
    user="you",
    is_admin=True,
    channel_name="console",
)
BANNER = "paperbot console: type `/papers help`, or `/papers search <query>`; Ctrl-D quits."
NOT_UTF8 = (
    "I could not read that line: it is not UTF-8 text. Set your terminal to UTF-8"
    " (e.g. LANG=en_US.UTF-8) and type it again."
)
# Bytes that are not UTF-8 reach us as lone surrogates (the "surrogateescape" decoding).
_UNDECODABLE = re.compile("[\udc80-\udcff]")
# The console's stand-in for the chat platforms' 👍 / 👎 buttons: `/papers like 2401.12345`.
_VOTE = re.compile(
    rf"^(?:/?papers\s+)?(like|dislike)\s+(\S{{1,{MAX_PAPER_REF_CHARS}}})$", re.IGNORECASE
)


def preview_digest(service: Paperbot, *, now: datetime) -> str:
    """The console channel's next digest, shown at start (not recorded as posted)."""
    preview = service.preview_digest(CONSOLE, now=now, create=True)
    assert preview is not None  # `create`: the console channel is added on first use
    return render.render_digest(preview.digest)


def answer(service: Paperbot, line: str, *, now: datetime) -> str | None:
    """The reply to one typed line (None for blank lines)."""
    text = line.strip()
    if not text:
        return None
    if _UNDECODABLE.search(text):
        return NOT_UTF8
    if text.startswith("/") and not text.lower().startswith("/papers"):
        return "Commands start with /papers. Try `/papers help`."
    if vote := _VOTE.match(text):
        value: Literal["like", "dislike"] = "like" if vote[1].lower() == "like" else "dislike"
        return render.render_reply(service.execute(Vote(vote[2], value), CALLER, now=now))
    return render.render_reply(service.handle_text(text, CALLER, now=now))


async def run(service: Paperbot, stdin: TextIO, stdout: TextIO) -> None:
    """Read commands until EOF (or until the task is cancelled, e.g. on Ctrl-C)."""
    interactive = stdin.isatty()
    if isinstance(stdout, io.TextIOWrapper):
        # A terminal that cannot show "▲" or "…" gets "?" rather than a crash.
        stdout.reconfigure(errors="replace")
    lines = _read_lines(stdin)
    stdout.write(BANNER + "\n\n")
    stdout.write(await asyncio.to_thread(preview_digest, service, now=datetime.now(UTC)) + "\n")
    stdout.flush()
    while True:
        if interactive:
            stdout.write("paperbot> ")
            stdout.flush()
        line = await lines.get()
        if line is None:
            return
        reply = await asyncio.to_thread(answer, service, line, now=datetime.now(UTC))
        if reply is not None:
            stdout.write(reply + "\n\n")
            stdout.flush()


def _read_lines(stdin: TextIO) -> asyncio.Queue[str | None]:
    """Lines from stdin, read by a daemon thread: a blocking read must never keep the process
    alive after a signal asked it to stop. None marks EOF."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def put(item: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is already closed: we are exiting
            loop.call_soon_threadsafe(queue.put_nowait, item)

    raw = getattr(stdin, "buffer", None)

    def read() -> None:
        try:
            if raw is not None:
                # Bytes, decoded per line: one line that is not UTF-8 is answered, not fatal.
                for data in iter(raw.readline, b""):
                    put(data.decode("utf-8", "surrogateescape"))
            else:
                for line in iter(stdin.readline, ""):
                    put(line)
        except (OSError, ValueError):  # stdin closed under us
            pass
        put(None)

    threading.Thread(target=read, name="console-stdin", daemon=True).start()
    return queue
