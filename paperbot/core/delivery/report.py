"""What a delivery pass did: per-digest outcomes, totals, and the channels in trouble."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from paperbot.core.messages import ChannelRef

OutcomeKind = Literal[
    "sent",  # posted (all parts) and recorded
    "reconciled",  # found already posted (find_posted) and recorded
    "empty",  # nothing new; skipped
    "skipped",  # channel paused or removed, or another worker took the row over
    "retry",  # failed for now; retried after a backoff
    "reconciling",  # a post's outcome is unknown and the platform cannot tell yet
    "failed",  # given up
    "paused",  # a permanent error paused the channel
    "workspace",  # a workspace-level error paused the channel's whole workspace
    "duplicate",  # a manual digest asked twice in the same minute
]
TROUBLE: frozenset[str] = frozenset({"retry", "reconciling", "failed", "paused", "workspace"})


@dataclass(frozen=True)
class DeliveryOutcome:
    status: OutcomeKind
    delivery_id: int | None
    message: str
    message_ids: tuple[str, ...] = ()
    channel: ChannelRef | None = None
    reason: str = ""


@dataclass
class DeliveryReport:
    planned: int = 0
    sent: int = 0
    reconciled: int = 0
    empty: int = 0
    skipped: int = 0
    retrying: int = 0
    failed: int = 0
    paused: int = 0
    missed: int = 0
    # One line per channel in trouble: "platform:workspace/channel: reason".
    troubles: list[str] = field(default_factory=list)

    def add(self, outcome: DeliveryOutcome) -> None:
        name = {
            "retry": "retrying",
            "reconciling": "retrying",
            "workspace": "paused",
            "duplicate": "skipped",
        }.get(outcome.status, outcome.status)
        setattr(self, name, getattr(self, name) + 1)
        if outcome.status in TROUBLE and outcome.channel is not None:
            self.trouble(outcome.channel, outcome.reason or outcome.message)

    def trouble(self, channel: ChannelRef | str, reason: str) -> None:
        line = f"{channel}: {' '.join(reason.split())}"
        if line not in self.troubles:
            self.troubles.append(line)

    def summary(self) -> str:
        names = ("planned", "sent", "reconciled", "empty", "skipped", "retrying", "failed")
        parts = [f"{name} {getattr(self, name)}" for name in names]
        parts += [f"paused {self.paused}", f"missed {self.missed}"]
        return ", ".join(parts)
