"""The port through which the core delivers digests to a chat platform."""

from __future__ import annotations

from typing import Protocol

from paperbot.core.messages import ChannelRef, Digest


class DeliveryError(Exception):
    """A post failed. retryable=False means the channel cannot be posted to (pause it)."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


class ChatPlatform(Protocol):
    name: str

    def post_digest(
        self, channel: ChannelRef, digest: Digest, *, idempotency_key: str
    ) -> list[str]:
        """Post the digest (one or more messages, part i keyed f"{idempotency_key}:{i}").

        Returns the platform message ids; raises DeliveryError.
        """
        ...

    def find_posted(self, channel: ChannelRef, idempotency_key: str) -> list[str] | None:
        """After a crash: the message ids already posted under this key, or None if unknown."""
        ...
