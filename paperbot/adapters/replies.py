"""The error tree mapped once for every chat adapter: a UserError is the person's answer;
anything else is logged (with what failed, and where) and the person gets an apology."""

from __future__ import annotations

import logging

from paperbot.core.errors import UserError, answer_for
from paperbot.core.messages import Reply

log = logging.getLogger(__name__)


def reply_for(exc: BaseException, what: str, platform: str) -> Reply:
    """The answer to a person whose `what` (command, button...) on `platform` failed."""
    if not isinstance(exc, UserError):
        log.error("%s %s failed", platform, what, exc_info=exc)
    return Reply(kind="error", text=answer_for(exc))
