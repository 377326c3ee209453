"""The error tree: every failure paperbot explains to a person derives from PaperbotError.

Each front end (the CLI, each chat adapter) maps the tree once: a `UserError` is answered to the
person who asked (exit 2), a `ConfigError` stops the start with what to set (exit 2), an
`Unavailable` names the service that did not answer (exit 1). Messages are one line, already
fit to show: no secrets, no exception class names.
"""

from __future__ import annotations


class PaperbotError(Exception):
    """The root: a failure with a message meant for people."""

    exit_code = 1


class UserError(PaperbotError):
    """Input we refuse (a bad argument, query or file); nothing was changed."""

    exit_code = 2


class ParseError(UserError):
    """Input we cannot act on (a command, a time, a query); the message is shown as is."""


class ConfigError(PaperbotError):
    """Settings that cannot work (alone or together); the message says what to set."""

    exit_code = 2


class Unavailable(PaperbotError):
    """Something paperbot depends on did not answer or refused us (operational, exit 1)."""

    exit_code = 1


class DatabaseUnavailable(Unavailable):
    """The database server does not answer, refuses the login, or the database is missing."""


class SchemaMismatch(Unavailable):
    """The database was migrated by a newer paperbot than this one."""


# What a person is told when paperbot failed on its side (the details go to the log).
SORRY = "Something went wrong on paperbot's side; please try again shortly."


def answer_for(exc: BaseException) -> str:
    """What to tell the person who asked: a UserError's own message, else SORRY (an
    operational error or a bug is the operator's to read in the log, not the person's)."""
    return str(exc) if isinstance(exc, UserError) else SORRY


__all__ = [
    "SORRY",
    "ConfigError",
    "DatabaseUnavailable",
    "PaperbotError",
    "ParseError",
    "SchemaMismatch",
    "Unavailable",
    "UserError",
    "answer_for",
]
