"""The lexical index store: one tantivy folder, its writer lock, catch-up from the change counter.

Derived data: rebuilt from SQL at any time; a folder of another schema version starts again.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

import tantivy
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session, sessionmaker
from tantivy import Index, IndexWriter

from paperbot.config import SearchSettings
from paperbot.core import db
from paperbot.core.models import Paper
from paperbot.core.progress import Progress
from paperbot.core.search.analysis import (
    NAME_TOKENIZER,
    TEXT_TOKENIZER,
    name_analyzer,
    text_analyzer,
)
from paperbot.core.search.grammar import SearchQuery
from paperbot.core.search.hits import SearchHits
from paperbot.core.search.lexical import Lexical
from paperbot.core.search.schema import COLUMNS, SCHEMA_VERSION, build_schema, document
from paperbot.core.search.topics import TopicCache, TopicMatch, match_topics
from paperbot.core.search.topicscore import TopicScorer

DEFAULT_TOPIC_THRESHOLD = SearchSettings().topic_threshold
STATE_FILE = "paperbot-index.json"
WRITER_LOCK = "paperbot-writer.lock"
BATCH = 5000
_RELOAD_EVERY = 0.5


class _Report:
    """Calls progress(done, total) if there is a progress callback."""

    def __init__(self, progress: Progress | None, total: int | None) -> None:
        self.progress, self.total = progress, total

    def __call__(self, done: int) -> None:
        if self.progress is not None:
            self.progress(done, self.total)


def _pending(session_factory: sessionmaker[Session], seq: int, last_id: int) -> int:
    """How many papers an index at this watermark has yet to index."""
    after = tuple_(Paper.change_seq, Paper.id) > tuple_(seq, last_id)
    with db.snapshot(session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(Paper).where(after)) or 0)


class SearchIndex:
    """One index folder. Any number of readers; one writer per folder (tantivy's lock file).

    keep_writer=True makes a long-running process hold the writer lock between catch-ups, so
    other processes (a CLI ingest) commit to SQL only and this one catches up from the counter.
    """

    def __init__(self, path: Path, *, keep_writer: bool = False, heap_size: int = 200_000_000):
        self.path = Path(path)
        self.keep_writer = keep_writer
        self.heap_size = heap_size
        self.schema = build_schema()
        self._writer: IndexWriter | None = None
        self._lock_file: TextIO | None = None
        self._last_reload = 0.0
        self._generation: tuple[int, int] | None = None
        self._topic_cache = TopicCache()
        self._index = self._open()

    # --- opening -------------------------------------------------------------------------
    def _open(self) -> Index:
        self.path.mkdir(parents=True, exist_ok=True)
        state = self._state()
        stale = state.get("version") != SCHEMA_VERSION and (self.path / "meta.json").exists()
        try:
            index = None if stale else Index(self.schema, path=str(self.path), reuse=True)
        except ValueError:
            index = None
        if index is None:
            # A folder from another schema version: derived data, so start it again.
            shutil.rmtree(self.path, ignore_errors=True)
            self.path.mkdir(parents=True, exist_ok=True)
            index = Index(self.schema, path=str(self.path), reuse=True)
            self._write_state(0, 0)
        elif not state:
            # A brand-new folder: stamp it now, or the next opener would take it for stale.
            self._write_state(0, 0)
        index.register_tokenizer(TEXT_TOKENIZER, text_analyzer())
        index.register_tokenizer(NAME_TOKENIZER, name_analyzer())
        return index

    def _state(self) -> dict[str, int]:
        try:
            data = json.loads((self.path / STATE_FILE).read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _write_state(self, seq: int, last_id: int) -> None:
        tmp = self.path / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps({"version": SCHEMA_VERSION, "seq": seq, "id": last_id}))
        os.replace(tmp, self.path / STATE_FILE)

    @property
    def watermark(self) -> int:
        """The highest change_seq indexed."""
        return int(self._state().get("seq", 0))

    # --- writing -------------------------------------------------------------------------
    def _take_writer(self, wait_seconds: float) -> IndexWriter | None:
        if self._writer is not None:
            return self._writer
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                self._lock_writer()
                self._writer = self._index.writer(heap_size=self.heap_size)
                return self._writer
            except (OSError, ValueError):
                self._unlock_writer()
                if time.monotonic() >= deadline:
                    return None
                time.sleep(0.1)

    def _lock_writer(self) -> None:
        # tantivy's own writer lock only excludes writers within one process here, so
        # processes exclude each other with an flock (released if the process dies).
        if self._lock_file is None:
            handle = (self.path / WRITER_LOCK).open("a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                raise
            self._lock_file = handle

    def _unlock_writer(self) -> None:
        if self._lock_file is not None:
            handle, self._lock_file = self._lock_file, None
            handle.close()  # closing the only descriptor releases the flock

    def reopen(self) -> None:
        """Open the folder afresh after it vanished or broke (then rebuild it from SQL).

        The old writer is dropped unwaited: its files and lock went with the folder.
        """
        self._writer = None
        self._unlock_writer()
        self._generation = None
        self._topic_cache.clear()
        self._index = self._open()

    def close(self) -> None:
        """Release the writer lock if this process holds it."""
        self.release_writer()

    def release_writer(self) -> None:
        """Drop the writer lock (waits for background merges)."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.wait_merging_threads()
        self._unlock_writer()

    @contextmanager
    def _writing(self, wait_seconds: float) -> Iterator[IndexWriter | None]:
        writer = self._take_writer(wait_seconds)
        try:
            yield writer
        except BaseException:
            if writer is not None:
                writer.rollback()
            raise
        finally:
            if writer is not None and not self.keep_writer:
                self.release_writer()

    def catch_up(
        self,
        session_factory: sessionmaker[Session],
        *,
        wait_seconds: float = 0.0,
        progress: Progress | None = None,
    ) -> int:
        """Index papers changed since the watermark; 0 if another process holds the writer."""
        if not self.keep_writer and not self._behind(session_factory):
            return 0  # up to date: no writer (and its 200 MB heap) for a one-off command
        with self._writing(wait_seconds) as writer:
            if writer is None:
                return 0
            state = self._state()
            seq, last_id = state.get("seq", 0), state.get("id", 0)
            # Nothing indexed yet: no old copies to delete first.
            self.reload()
            fresh = seq == last_id == 0 and self._index.searcher().num_docs == 0
            total = _pending(session_factory, seq, last_id) if progress is not None else None
            return self._index_from(
                session_factory, writer, seq, last_id, fresh=fresh, report=_Report(progress, total)
            )

    def _behind(self, session_factory: sessionmaker[Session]) -> bool:
        """Whether the database holds changes past the watermark (one indexed lookup)."""
        state = self._state()
        seq, last_id = state.get("seq", 0), state.get("id", 0)
        with db.snapshot(session_factory) as session:
            newer = session.execute(
                select(Paper.id)
                .where(tuple_(Paper.change_seq, Paper.id) > tuple_(seq, last_id))
                .limit(1)
            ).first()
        return newer is not None

    def rebuild(
        self,
        session_factory: sessionmaker[Session],
        *,
        wait_seconds: float = 30.0,
        progress: Progress | None = None,
    ) -> int:
        """Re-index every paper from SQL (the index is derived data); progress(done, total)."""
        with self._writing(wait_seconds) as writer:
            if writer is None:
                raise RuntimeError(
                    "The search index is in use by another paperbot process; stop it or retry."
                )
            writer.delete_all_documents()
            writer.commit()
            self._write_state(0, 0)
            total = _pending(session_factory, 0, 0) if progress is not None else None
            return self._index_from(
                session_factory, writer, 0, 0, fresh=True, report=_Report(progress, total)
            )

    def _index_from(
        self,
        session_factory: sessionmaker[Session],
        writer: IndexWriter,
        seq: int,
        last_id: int,
        *,
        fresh: bool = False,
        report: _Report | None = None,
    ) -> int:
        done = 0
        while True:
            with db.snapshot(session_factory) as session:
                rows = session.execute(
                    select(*COLUMNS)
                    .where(tuple_(Paper.change_seq, Paper.id) > tuple_(seq, last_id))
                    .order_by(Paper.change_seq, Paper.id)
                    .limit(BATCH)
                ).all()
            if not rows:
                break
            for row in rows:
                if not fresh:
                    writer.delete_documents_by_term("id", row.id)
                writer.add_document(document(row._mapping))
            writer.commit()
            seq, last_id = rows[-1].change_seq, rows[-1].id
            self._write_state(seq, last_id)
            done += len(rows)
            if report is not None:
                report(done)
        if done:
            self.reload()
        return done

    # --- reading -------------------------------------------------------------------------
    def reload(self) -> None:
        """See the latest commit (from this or another process)."""
        self._index.reload()
        self._last_reload = time.monotonic()
        try:
            stat = (self.path / "meta.json").stat()
            generation = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            generation = None
        if generation != self._generation:
            self._generation = generation
            self._topic_cache.clear()

    def reload_if_stale(self) -> None:
        """Reload when the last reload is older than half a second (cheap otherwise)."""
        if time.monotonic() - self._last_reload > _RELOAD_EVERY:
            self.reload()

    @property
    def generation(self) -> tuple[int, int] | None:
        """Changes whenever a commit (of any process) changed the index."""
        return self._generation

    def _searcher(self) -> tantivy.Searcher:
        self.reload_if_stale()
        return self._index.searcher()

    def lexical(self) -> Lexical:
        """The query engine over the latest view of the index."""
        return Lexical(self.schema, self._searcher())

    @property
    def num_docs(self) -> int:
        return int(self._searcher().num_docs)

    def search(self, query: SearchQuery, *, limit: int, offset: int = 0) -> SearchHits:
        """Ranked paper ids for a parsed query."""
        return self.lexical().search(query, limit=limit, offset=offset)

    def more_like_this(
        self, paper_id: int, *, limit: int, text: dict[str, str] | None = None
    ) -> list[tuple[int, float]]:
        """Papers similar to one paper (from its text if given, else its stored title)."""
        return self.lexical().more_like_this(paper_id, limit=limit, text=text)

    def match_topics(
        self,
        topics: Sequence[str],
        *,
        since: date,
        now: datetime,
        limit_per_topic: int = 200,
        threshold: float = DEFAULT_TOPIC_THRESHOLD,
    ) -> dict[int, TopicMatch]:
        """Papers since a date whose lexical relevance to a topic clears the threshold."""
        scorer = TopicScorer(self.lexical(), None, lambda _: None)  # reloads, drops stale
        return match_topics(
            scorer,
            topics,
            since=since,
            now=now,
            limit_per_topic=limit_per_topic,
            cache=self._topic_cache,
            threshold=threshold,
        )


__all__ = ["SearchIndex"]
