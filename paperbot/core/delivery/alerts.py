"""Telling the operator what no person in chat can be told: a log line, a metric, a webhook."""

from __future__ import annotations

import logging
from datetime import datetime

import httpx

from paperbot.config import AlertSettings
from paperbot.core import metrics
from paperbot.core.messages import ChannelRef

log = logging.getLogger("paperbot.alerts")


class Alerts:
    """Operator notices. Never raises: an alert that cannot be sent is logged, nothing more."""

    def __init__(self, settings: AlertSettings) -> None:
        self.settings = settings

    def operator(
        self, kind: str, text: str, *, now: datetime, where: ChannelRef | str | None = None
    ) -> None:
        """One log line and a metric; a JSON POST when PAPERBOT_ALERTS__WEBHOOK_URL is set."""
        place = f"{where}: " if where is not None else ""
        log.warning("operator notice (%s): %s%s", kind, place, text)
        metrics.operator_notice(kind)
        url = self.settings.webhook_url
        if url is None:
            return
        body: dict[str, object] = {
            "source": "paperbot",
            "kind": kind,
            "text": text,
            "at": now.isoformat(),
            "where": str(where) if where is not None else None,
        }
        if isinstance(where, ChannelRef):
            body.update(platform=where.platform, workspace=where.workspace, channel=where.channel)
        try:
            response = httpx.post(
                url.get_secret_value(), json=body, timeout=self.settings.timeout_seconds
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            # The URL may carry a token: name only the failure.
            log.warning("the alerts webhook failed: %s", type(exc).__name__)
