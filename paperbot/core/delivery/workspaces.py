"""Workspace-level pauses: a refused token pauses its workspace once, and a backed-off probe
resumes it when a call works again (workspace "*": the platform's own token, e.g. Discord's)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from paperbot.core.channels.store import workspace_state
from paperbot.core.db import transaction
from paperbot.core.delivery.deps import DeliveryDeps
from paperbot.core.models import Channel, WorkspaceState
from paperbot.core.panics import recoverable
from paperbot.core.ports import ProbeBackoff

log = logging.getLogger(__name__)

DEFAULT_BACKOFF = ProbeBackoff()


def backoff_of(deps: DeliveryDeps, platform: str) -> ProbeBackoff:
    """The platform's probe back-off (the default for one this replica does not run)."""
    found = deps.platforms.get(platform)
    return found.probe_backoff if found is not None else DEFAULT_BACKOFF


def pause(
    session: Session,
    platform: str,
    workspace: str,
    reason: str,
    *,
    now: datetime,
    backoff: ProbeBackoff = DEFAULT_BACKOFF,
) -> bool:
    """Pause the workspace (True the first time; later errors only refresh the reason)."""
    state = workspace_state(session, platform, workspace)
    first = state.paused_at is None
    if first:
        state.paused_at, state.probes, state.pause_notice = now, 0, None
        state.next_probe_at = now + backoff.wait(0)
    state.paused_reason = reason[:500]
    return first


def resume(session: Session, platform: str, workspace: str) -> bool:
    """End a workspace pause; its channels' next digests say paperbot can post again."""
    state = session.scalar(
        select(WorkspaceState)
        .where(WorkspaceState.platform == platform, WorkspaceState.workspace == workspace)
        .with_for_update()
    )
    if state is None or state.paused_at is None:
        return False
    reason = state.paused_reason or "the token was refused"
    state.paused_at = state.next_probe_at = state.paused_reason = state.pause_notice = None
    state.probes = 0
    where = [Channel.platform == platform, Channel.paused.is_(False)]
    if workspace != "*":
        where.append(Channel.workspace == workspace)
    session.execute(
        update(Channel)
        .where(*where)
        .values(resumed_note=reason)
        .execution_options(synchronize_session=False)
    )
    return True


def probe_due(deps: DeliveryDeps, *, now: datetime) -> list[tuple[str, str]]:
    """Probe paused workspaces whose next probe is due; resume those whose token works.

    Returns (workspace, reason) for each one still paused after its probe.
    """
    with deps.session_factory() as session:
        due = session.execute(
            select(WorkspaceState.id, WorkspaceState.platform, WorkspaceState.workspace).where(
                WorkspaceState.paused_at.is_not(None),
                WorkspaceState.next_probe_at <= now,
                WorkspaceState.platform.in_(list(deps.platforms)),
            )
        ).all()
    still: list[tuple[str, str]] = []
    for row_id, platform, workspace in due:
        reason = _claim_probe(deps, row_id, platform, now)
        if reason is None:
            continue  # another replica probes it
        try:
            ok = deps.platforms[platform].probe(workspace)
        except BaseException as exc:
            if not recoverable(exc):
                raise
            log.warning(
                "%s workspace %s: probe failed: %s", platform, workspace, type(exc).__name__
            )
            ok = None
        if ok:
            with transaction(deps.session_factory) as session:
                resume(session, platform, workspace)
            text = f"{platform} workspace {workspace} works again; its digests resume"
            deps.alerts.operator(
                "workspace-resumed", text, now=now, where=f"{platform}:{workspace}"
            )
        else:
            still.append((f"{platform}:{workspace}", reason))
    return still


def _claim_probe(deps: DeliveryDeps, row_id: int, platform: str, now: datetime) -> str | None:
    """Move the next probe on (compare-and-set), so one replica probes; the pause reason."""
    with transaction(deps.session_factory) as session:
        state = session.get(WorkspaceState, row_id, with_for_update=True)
        if state is None or state.paused_at is None or state.next_probe_at is None:
            return None
        if state.next_probe_at > now:
            return None
        state.probes += 1
        state.next_probe_at = now + backoff_of(deps, platform).wait(state.probes)
        return state.paused_reason or "the token was refused"


def refused(session: Session, platforms: list[str]) -> list[str]:
    """Readiness: the platforms whose own token ("*") is refused, with why."""
    rows = session.execute(
        select(WorkspaceState.platform, WorkspaceState.paused_reason).where(
            WorkspaceState.workspace == "*",
            WorkspaceState.paused_at.is_not(None),
            WorkspaceState.platform.in_(platforms),
        )
    ).all()
    return [f"{platform}: {reason or 'token refused'}" for platform, reason in rows]
