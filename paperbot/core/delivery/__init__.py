"""Exactly-once digests under faults: planning (due slots), claiming (leases on the database
clock, fencing), reserving (frozen digests), sending (part by part), and what happens after.

Modules: status (DeliveryStatus, PauseKind), rows (the one row builder), planning, expiry,
claiming, reserving, sending, outcomes, pauses, workspaces, notices, history, report, passes.
"""

from paperbot.core.delivery.deps import DeliveryDeps, Digests, DigestSource
from paperbot.core.delivery.passes import Deliverer
from paperbot.core.delivery.report import DeliveryOutcome, DeliveryReport
from paperbot.core.delivery.status import MANUAL, DeliveryStatus, PauseKind

__all__ = [
    "MANUAL",
    "Deliverer",
    "DeliveryDeps",
    "DeliveryOutcome",
    "DeliveryReport",
    "DeliveryStatus",
    "DigestSource",
    "Digests",
    "PauseKind",
]
