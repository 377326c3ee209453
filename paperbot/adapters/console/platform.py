"""The console's ChatPlatform: digests to a text stream, plus an optional shared transcript."""

from __future__ import annotations

import json
import os
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from paperbot.adapters.console.render import clean, render_digest
from paperbot.core.messages import ChannelRef, Digest
from paperbot.core.ports import DeliveryError, Notice, ProbeBackoff


class ConsolePlatform:
    """Posts rendered digests to `out` and logs each part as one JSON line in `transcript`.

    The transcript is appended with O_APPEND and one write per line, so several processes can
    share it; `find_posted` reads it back. Posting never dedupes on its own: exactly-once is
    the delivery core's job, and the transcript is how tests count what really went out.
    """

    name = "console"
    probe_backoff = ProbeBackoff()

    def __init__(self, out: TextIO | None = None, transcript: Path | None = None) -> None:
        self._out = out
        self.transcript = transcript
        self._lock = threading.Lock()

    @property
    def out(self) -> TextIO:
        return self._out if self._out is not None else sys.stdout

    def digest_parts(self, digest: Digest) -> list[tuple[str, ...]]:
        """A console digest is one message."""
        return [tuple(card.key for card in digest.papers)]

    def post_part(
        self, channel: ChannelRef, digest: Digest, part: int, *, idempotency_key: str
    ) -> str:
        text = render_digest(digest)
        message_id = f"console-{idempotency_key}-{part}"
        try:
            with self._lock:
                self.out.write(text + "\n\n")
                self.out.flush()
        except (OSError, ValueError) as exc:  # a closed or broken stream
            raise DeliveryError(f"console output failed: {exc}", retryable=True) from exc
        if self.transcript is not None:
            self._append(
                {
                    "key": idempotency_key,
                    "part": part,
                    "channel": str(channel),
                    "papers": [p.key for p in digest.papers],
                    "message_id": message_id,
                }
            )
        return message_id

    def find_posted(
        self, channel: ChannelRef, idempotency_key: str, *, since: datetime | None = None
    ) -> dict[int, str] | None:
        if self.transcript is None:
            return None  # nothing to look in: unknown
        return {
            int(entry.get("part", 0)): str(entry["message_id"])
            for entry in read_transcript(self.transcript)
            if entry.get("key") == idempotency_key and entry.get("channel") == str(channel)
        }

    def probe(self, workspace: str) -> bool:
        return True  # no token to refuse

    def notify(self, notice: Notice) -> bool:
        """The person is at this terminal."""
        try:
            with self._lock:
                self.out.write(f"[paperbot] {notice.channel}: {clean(notice.text)}\n")
                self.out.flush()
        except (OSError, ValueError):
            return False
        return True

    def _append(self, entry: dict[str, Any]) -> None:
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode()
        self.transcript_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.transcript_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        except OSError as exc:
            raise DeliveryError(f"console transcript failed: {exc}", retryable=True) from exc
        finally:
            os.close(fd)

    @property
    def transcript_path(self) -> Path:
        assert self.transcript is not None
        return Path(self.transcript)


def read_transcript(path: Path) -> list[dict[str, Any]]:
    """Every complete JSON line of a transcript (a line cut short by a crash is ignored)."""
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    entries: list[dict[str, Any]] = []
    for line in raw.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries
