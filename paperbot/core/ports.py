"""The port through which the core delivers digests to a chat platform (and tells people).

A digest goes out as one or more messages ("parts"). The core decides which parts to post and
records each one as it goes, so the port works a part at a time:

- `digest_parts(digest)`: how the platform splits this digest, as the paper keys each part
  shows. It must be a pure function of the digest: the core freezes the digest when it is
  reserved and asks again on every retry.
- `post_part(channel, digest, part, idempotency_key=...)`: post message `part` (keyed
  `idempotency_key` + part: Slack message metadata, Discord's nonce, a transcript line) and
  return its message id. Never retried blindly inside the adapter: a post whose outcome is
  unknown (timeout, lost reply) raises DeliveryError(outcome_unknown=True).
- `find_posted(channel, idempotency_key, since=...)`: after an unknown outcome or a crash, the
  parts already posted under the key, {part: message id}; {} when none; None when the platform
  cannot tell right now (rate-limited history, no access): the core asks again later and posts
  anyway only after the slot's grace deadline.
- `probe(workspace)`: does the workspace's token work again after a workspace-level error?
  True / False, or None when it cannot tell (unreachable).
- `notify(notice)`: tell a person (a DM, else a place they read); False if no one was reached,
  and the core tells the operator instead. Never raises, never pauses a digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from paperbot.core.errors import Unavailable
from paperbot.core.messages import ChannelRef, Digest

# What a permanent error stops: this channel, the workspace's token, or the platform's own
# token (every workspace: Discord's bot token, Slack's single-workspace bot token).
Scope = Literal["channel", "workspace", "platform"]


class DeliveryError(Unavailable):
    """A post failed.

    retryable: try again later (backoff); else `scope` says what to pause and `kind` (a
    PauseKind value, for channels) what resumes it. outcome_unknown: the platform may have
    accepted the message (the core reconciles with find_posted before posting it again).
    """

    def __init__(
        self,
        reason: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        scope: Scope = "channel",
        kind: str = "refused",
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        self.scope = scope
        self.kind = kind
        self.outcome_unknown = outcome_unknown


@dataclass(frozen=True)
class Notice:
    """Something a person should know about a channel (e.g. why its digest paused)."""

    channel: ChannelRef
    # The member to tell first (who last changed the channel's topics or schedule), if known.
    user: str | None
    text: str


@dataclass(frozen=True)
class ProbeBackoff:
    """How often a paused workspace's token is tried again: from `first`, doubling to `last`."""

    first: timedelta = timedelta(minutes=1)
    last: timedelta = timedelta(hours=1)

    def wait(self, probes: int) -> timedelta:
        return min(self.first * (2 ** min(probes, 16)), self.last)


class ChatPlatform(Protocol):
    name: str
    # How a refused token is probed (a platform that counts 401s toward a ban: rarely).
    probe_backoff: ProbeBackoff

    def digest_parts(self, digest: Digest) -> list[tuple[str, ...]]:
        """The paper keys each message of this digest shows, in posting order."""
        ...

    def post_part(
        self, channel: ChannelRef, digest: Digest, part: int, *, idempotency_key: str
    ) -> str:
        """Post message `part` of the digest; its message id. Raises DeliveryError."""
        ...

    def find_posted(
        self, channel: ChannelRef, idempotency_key: str, *, since: datetime | None = None
    ) -> dict[int, str] | None:
        """Parts posted under this key ({} none); None if it cannot tell now."""
        ...

    def probe(self, workspace: str) -> bool | None:
        """Whether the workspace's token (workspace "*": the platform's own) works again."""
        ...

    def notify(self, notice: Notice) -> bool:
        """Tell a person; False when no one could be reached."""
        ...
