"""What a delivery and a channel's pause can be: DeliveryStatus and PauseKind, documented."""

from __future__ import annotations

from enum import StrEnum

# Slot keys of `/papers digest` posts; they don't count as scheduled history.
MANUAL = "manual-"
# Delivery kinds: a channel's digest, or its week's roundup (which writes no posted rows).
DIGEST = "digest"
ROUNDUP = "roundup"


class DeliveryStatus(StrEnum):
    """The state of one Delivery row (one channel's digest for one slot)."""

    PENDING = "pending"
    """Planned; claimable once next_attempt_at has passed: new, waiting out a backoff, or
    waiting to ask the platform again whether an earlier post went out."""
    CLAIMED = "claimed"
    """A worker holds it (lease_until by the database's clock, claim_version its fencing
    token) and is posting it."""
    SENT = "sent"
    """Every part was posted and recorded (delivery_parts holds each message id)."""
    EMPTY = "empty"
    """Nothing new to post, and the channel does not want empty digests."""
    SKIPPED = "skipped"
    """Not posted on purpose: the channel was paused or removed at its slot."""
    FAILED = "failed"
    """Given up after trying: attempts exhausted, a permanent error, or the grace period ran
    out while retrying. People read "could not be delivered"; the next digest says so."""
    MISSED = "missed"
    """Never tried within the grace period because paperbot was not running. People read
    "offline"; the next digest counts it."""

    @classmethod
    def final(cls) -> tuple[DeliveryStatus, ...]:
        return (cls.SENT, cls.EMPTY, cls.SKIPPED, cls.FAILED, cls.MISSED)


class PauseKind(StrEnum):
    """Why a channel's digest is paused, which decides who is told and what resumes it."""

    PERSON = "person"
    """A member ran /papers pause: only /papers resume starts it again."""
    NOT_IN_CHANNEL = "not_in_channel"
    """paperbot is not a member (Slack): resumes when it is invited back."""
    PERMISSION = "permission"
    """paperbot lacks a permission to post: resumes when the permission is given back."""
    ARCHIVED = "archived"
    """The channel is archived: resumes when it is unarchived."""
    GONE = "gone"
    """The channel was deleted or cannot be found: resumes if paperbot is used there again."""
    REMOVED = "removed"
    """The workspace removed paperbot: resumes when it is added again."""
    SCHEDULE = "schedule"
    """The stored schedule no longer works (a time zone tzdata dropped): resumes on
    /papers schedule."""
    REFUSED = "refused"
    """Another refusal no retry fixes: resumes on /papers resume."""


# Pauses a person can do something about: they are told once.
TOLD = frozenset(
    {
        PauseKind.NOT_IN_CHANNEL,
        PauseKind.PERMISSION,
        PauseKind.ARCHIVED,
        PauseKind.GONE,
        PauseKind.SCHEDULE,
        PauseKind.REFUSED,
    }
)
# Pauses that end by themselves when paperbot sees it can post again (an invite, a permission
# given back, a successful check): not a person's choice, so not overruled by one.
CAN_POST_AGAIN = frozenset({PauseKind.NOT_IN_CHANNEL, PauseKind.PERMISSION})


def kind_of(value: str | None) -> PauseKind:
    """The PauseKind stored in a row (older rows without one count as refused)."""
    try:
        return PauseKind(value or PauseKind.REFUSED)
    except ValueError:
        return PauseKind.REFUSED
