"""Named, time-bound locks in the database (e.g. "ingest": one replica ingests at a time).

Expiry is judged by the database's clock (paperbot.core.clock.db_now): a replica whose own
clock runs ahead cannot take a lease that is still held.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.clock import db_now
from paperbot.core.db import transaction
from paperbot.core.models import Lease

log = logging.getLogger(__name__)


def acquire(session_factory: sessionmaker[Session], name: str, holder: str, *, ttl: float) -> bool:
    """Take (or extend) the lease if it is free, expired, or already ours."""
    with transaction(session_factory) as session:
        ins = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        created = session.scalars(
            ins(Lease)
            .values(name=name, holder=holder, expires_at=db_now(ttl))
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(Lease.name)
        ).first()
        if created is not None:
            return True
        # PostgreSQL re-checks this WHERE after a concurrent writer commits, so two replicas
        # racing for an expired lease cannot both win.
        taken = session.scalars(
            update(Lease)
            .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < db_now()))
            .values(holder=holder, expires_at=db_now(ttl))
            .returning(Lease.name)
            .execution_options(synchronize_session=False)
        ).first()
        return taken is not None


def renew(session_factory: sessionmaker[Session], name: str, holder: str, *, ttl: float) -> bool:
    """Extend a lease we hold; False if it was lost (expired and taken by someone else)."""
    with transaction(session_factory) as session:
        kept = session.scalars(
            update(Lease)
            .where(Lease.name == name, Lease.holder == holder)
            .values(expires_at=db_now(ttl))
            .returning(Lease.name)
            .execution_options(synchronize_session=False)
        ).first()
        return kept is not None


def release(session_factory: sessionmaker[Session], name: str, holder: str) -> None:
    with transaction(session_factory) as session:
        session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


@contextmanager
def held(
    session_factory: sessionmaker[Session], name: str, holder: str, *, ttl: float
) -> Iterator[bool]:
    """Hold the lease for the block (yields False, and holds nothing, if it is taken).

    A background thread renews it every ttl/3, so a long ingest keeps it; a process that dies
    stops renewing and the lease expires after ttl.
    """
    if not acquire(session_factory, name, holder, ttl=ttl):
        yield False
        return
    stop = threading.Event()

    def keep() -> None:
        while not stop.wait(ttl / 3):
            try:
                if not renew(session_factory, name, holder, ttl=ttl):
                    log.warning("lease %s was lost by %s", name, holder)
                    return
            except Exception:
                log.warning("could not renew lease %s", name, exc_info=True)

    renewer = threading.Thread(target=keep, name=f"lease-{name}", daemon=True)
    renewer.start()
    try:
        yield True
    finally:
        stop.set()
        renewer.join()
        release(session_factory, name, holder)
