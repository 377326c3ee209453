"""The derived tantivy index: schema, catch-up from the change counter, rebuild, queries."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

import tantivy
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session, sessionmaker
from tantivy import Document, Index, IndexWriter, Query, SchemaBuilder

from paperbot.core.index_query import Expr, Leaf, build, day_number, evaluate, leaf_query, leaves_of
from paperbot.core.models import Paper
from paperbot.core.progress import Progress
from paperbot.core.search import SearchQuery, parse_query
from paperbot.core.textnorm import (
    NAME_TOKENIZER,
    TEXT_TOKENIZER,
    analyze_cached,
    fold_acronym_plurals,
    name_analyzer,
    text_analyzer,
)

# Bump when the schema or the analysis changes: an index with another stamp is rebuilt.
SCHEMA_VERSION = 1
STATE_FILE = "paperbot-index.json"
WRITER_LOCK = "paperbot-writer.lock"
BATCH = 5000
# Rows indexed between commits while feeding an ingest (fewer, larger segments).
COUNT_UP_TO = 200_000
MIN_CANDIDATES, MAX_CANDIDATES, PHRASE_POOL, PHRASE_POOL_DEEP = 60, 1000, 300, 1000
# Above this many abstracts holding a phrase's rarest word, matching it everywhere costs
# tens of ms at 1M papers (positions read in each), so it is checked on candidates only.
EXHAUSTIVE_PHRASE_DF = 150_000
_M, _S = tantivy.Occur.Must, tantivy.Occur.Should
_RELOAD_EVERY = 0.5


@dataclass(frozen=True)
class SearchHits:
    """Paper ids with scores in rank order, and how many papers match (maybe estimated)."""

    hits: tuple[tuple[int, float], ...]
    total: int


@dataclass(frozen=True)
class TopicMatch:
    """How a paper matches a channel's topics (relevance 0..1, relative to the topic's best paper).

    Only topics whose relevance clears the threshold are listed (never a relevance of 0).
    """

    score: float  # best relevance over the matched topics
    topics: tuple[str, ...]  # the matched topics, best first
    relevance: Mapping[str, float] = field(default_factory=dict)  # per matched topic
    by_meaning: tuple[str, ...] = ()  # topics matched by the dense (semantic) side only


def build_schema() -> tantivy.Schema:
    sb = SchemaBuilder()
    sb.add_integer_field("id", stored=True, indexed=True, fast=True)
    sb.add_text_field("title", stored=True, tokenizer_name=TEXT_TOKENIZER)
    sb.add_text_field("keywords", tokenizer_name=TEXT_TOKENIZER)
    sb.add_text_field("abstract", tokenizer_name=TEXT_TOKENIZER)
    sb.add_text_field("authors", tokenizer_name=NAME_TOKENIZER)
    sb.add_text_field("cats", tokenizer_name="raw", index_option="basic")
    sb.add_integer_field("day", indexed=True, fast=True)
    return sb.build()


_COLUMNS = (
    Paper.id,
    Paper.change_seq,
    Paper.title,
    Paper.abstract,
    Paper.ai_summary,
    Paper.ai_keywords,
    Paper.authors,
    Paper.categories,
    Paper.announced,
    Paper.published,
    Paper.first_seen_at,
)


_FED = tuple(c.key for c in _COLUMNS if c.key not in ("change_seq", "first_seen_at"))


def paper_day(announced: date | None, published: date | None, first_seen: datetime | None) -> int:
    """The day a paper counts from for since: filters (announced, else published, else seen)."""
    day = announced or published or (first_seen.date() if first_seen else None)
    return day_number(day) if day else 0


def _categories(cats: Sequence[str]) -> list[str]:
    out: list[str] = []
    for cat in cats or ():
        cat = cat.strip().lower()
        if cat:
            out.append(cat)
            # "cat:cs" finds every cs.* paper.
            out.append(cat.split(".", 1)[0])
    return list(dict.fromkeys(out))


def _document(row: Mapping[Any, Any]) -> Document:
    abstract = " ".join(filter(None, (row["abstract"], row["ai_summary"])))
    return Document(
        id=row["id"],
        title=fold_acronym_plurals(row["title"] or ""),
        keywords=fold_acronym_plurals(" ".join(row["ai_keywords"] or ())),
        abstract=fold_acronym_plurals(abstract),
        authors=[a for a in (row["authors"] or ()) if a] or [""],
        cats=_categories(row["categories"] or ()) or [""],
        day=paper_day(row["announced"], row["published"], row.get("first_seen_at")),
    )


def _pending(session_factory: sessionmaker[Session], seq: int, last_id: int) -> int:
    """How many papers an index at this watermark has yet to index."""
    after = tuple_(Paper.change_seq, Paper.id) > tuple_(seq, last_id)
    with session_factory() as session:
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
        self._topic_cache: dict[tuple[str, date, str], list[tuple[int, float]]] = {}
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
                session_factory, writer, seq, last_id, fresh=fresh, progress=progress, total=total
            )

    def rebuild(
        self,
        session_factory: sessionmaker[Session],
        *,
        wait_seconds: float = 30.0,
        progress: Progress | None = None,
    ) -> int:
        """Re-index every paper from SQL (the index is derived data); progress per batch."""
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
                session_factory, writer, 0, 0, fresh=True, progress=progress, total=total
            )

    def _index_from(
        self,
        session_factory: sessionmaker[Session],
        writer: IndexWriter,
        seq: int,
        last_id: int,
        *,
        fresh: bool = False,
        progress: Progress | None = None,
        total: int | None = None,
    ) -> int:
        done = 0
        while True:
            with session_factory() as session:
                rows = session.execute(
                    select(*_COLUMNS)
                    .where(tuple_(Paper.change_seq, Paper.id) > tuple_(seq, last_id))
                    .order_by(Paper.change_seq, Paper.id)
                    .limit(BATCH)
                ).all()
            if not rows:
                break
            for row in rows:
                if not fresh:
                    writer.delete_documents_by_term("id", row.id)
                writer.add_document(_document(row._mapping))
            writer.commit()
            seq, last_id = rows[-1].change_seq, rows[-1].id
            self._write_state(seq, last_id)
            done += len(rows)
            if progress is not None:
                progress(done, total)
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

    def _searcher(self) -> tantivy.Searcher:
        if time.monotonic() - self._last_reload > _RELOAD_EVERY:
            self.reload()
        return self._index.searcher()

    @property
    def num_docs(self) -> int:
        return int(self._searcher().num_docs)

    def _run(
        self,
        query: Query,
        *,
        limit: int,
        offset: int = 0,
        by_day: bool = False,
        count: bool = False,
    ) -> tuple[list[tuple[int, float]], int]:
        searcher = self._index.searcher()
        kwargs: dict[str, Any] = {"order_by_field": "day"} if by_day else {}
        result = searcher.search(query, limit, count=count, offset=offset, **kwargs)
        addresses = [addr for _, addr in result.hits]
        ids = searcher.fast_field_values("id", addresses) if addresses else []
        hits = [
            (int(pid), 0.0 if by_day else float(score))
            for (score, _), pid in zip(result.hits, ids, strict=True)
            if pid is not None
        ]
        total = int(getattr(result, "count", None) or 0) if count else 0
        return hits, total

    def search(self, query: SearchQuery, *, limit: int, offset: int = 0) -> SearchHits:
        """Ranked paper ids for a parsed query: first stage, then rerank of its candidates."""
        searcher = self._searcher()
        if query.is_empty or limit <= 0:
            return SearchHits((), 0)
        built = build(self.schema, searcher, query)
        # Counting every match defeats block-max WAND, so only count on small indexes.
        count = searcher.num_docs <= COUNT_UP_TO
        if built.rerank is None:
            hits, total = self._run(
                built.first, limit=limit, offset=offset, by_day=True, count=count
            )
            return SearchHits(tuple(hits), total if count else offset + len(hits))
        depth = min(MAX_CANDIDATES, max(MIN_CANDIDATES, 3 * (offset + limit)))
        ranked: list[tuple[int, float]] | None = None
        total = 0
        if built.loose is not None and built.phrases is not None and not count:
            ranked = self._phrase_pools(
                searcher, query, built.loose, built.phrases, built.rerank, offset + limit
            )
        if ranked is None:
            addresses, ids, total = self._stage(searcher, built.first, depth, count)
            ranked = self._order(searcher, built.rerank, addresses, ids)
        page = tuple(ranked[offset : offset + limit])
        if not count:
            total = offset + len(page)
            if not (query.authors or query.categories or query.since or query.phrases):
                total = max([total] + [searcher.doc_freq("abstract", t) for t in built.terms])
        return SearchHits(page, total)

    def _phrase_pools(
        self,
        searcher: tantivy.Searcher,
        query: SearchQuery,
        loose: Query,
        phrases: tuple[tuple[Query, ...], ...],
        rerank: Expr,
        wanted: int,
    ) -> list[tuple[int, float]] | None:
        """Phrase matches among the loose query's best papers; None: go exhaustive.

        Matching a phrase everywhere costs a position check in every paper holding all its
        words, so when each phrase has a word in few abstracts the exhaustive pass is cheap;
        phrases of very common words only look among the best PHRASE_POOL_DEEP papers.
        """
        cost = min(
            (
                min((searcher.doc_freq("abstract", s) for s in stems), default=0)
                for p in query.phrases
                if (stems := analyze_cached(p))
            ),
            default=0,
        )
        cheap = cost <= EXHAUSTIVE_PHRASE_DF
        kept: list[tuple[tantivy.DocAddress, int]] = []
        for pool in (PHRASE_POOL,) if cheap else (PHRASE_POOL, PHRASE_POOL_DEEP):
            addresses, ids, _ = self._stage(searcher, loose, pool, False)
            having = set(ids)
            for per_field in phrases:
                having &= set().union(*(self._matching(searcher, q, ids) for q in per_field))
            kept = [(a, pid) for a, pid in zip(addresses, ids, strict=True) if pid in having]
            if len(kept) > wanted or len(addresses) < pool:
                break
        else:
            if cheap:
                return None
        return self._order(searcher, rerank, [a for a, _ in kept], [pid for _, pid in kept])

    def _only(self, ids: Sequence[int]) -> Query:
        """Unscored "one of these papers": a union of id terms, which (unlike a term set
        query, which builds a bitset per segment) costs only a seek per id."""
        terms = [(_S, Query.term_query(self.schema, "id", pid)) for pid in ids]
        return Query.const_score_query(Query.boolean_query(terms), 0.0)

    def _matching(self, searcher: tantivy.Searcher, query: Query, ids: list[int]) -> set[int]:
        """Which of these papers match a query."""
        if not ids:
            return set()
        found = searcher.search(
            Query.boolean_query([(_M, self._only(ids)), (_M, query)]), len(ids), count=False
        ).hits
        return {int(p or 0) for p in searcher.fast_field_values("id", [a for _, a in found])}

    def _stage(
        self, searcher: tantivy.Searcher, first: Query, depth: int, count: bool
    ) -> tuple[list[tantivy.DocAddress], list[int], int]:
        """The first stage's best `depth` papers: addresses, ids, and the match count."""
        result = searcher.search(first, depth, count=count)
        addresses = [addr for _, addr in result.hits]
        ids = (
            [int(p or 0) for p in searcher.fast_field_values("id", addresses)] if addresses else []
        )
        return addresses, ids, int(getattr(result, "count", None) or 0)

    def _order(
        self,
        searcher: tantivy.Searcher,
        expr: Expr,
        addresses: list[tantivy.DocAddress],
        ids: list[int],
    ) -> list[tuple[int, float]]:
        """Candidates reordered by the rerank expression (ties keep first-stage order)."""
        if not addresses:
            return []
        scores = self._rerank(searcher, expr, addresses, ids)
        order = sorted(range(len(ids)), key=lambda i: (-scores.get(ids[i], 0.0), i))
        return [(ids[i], scores.get(ids[i], 0.0)) for i in order]

    def _rerank(
        self,
        searcher: tantivy.Searcher,
        expr: Expr,
        addresses: list[tantivy.DocAddress],
        ids: list[int],
    ) -> dict[int, float]:
        """Score candidates leaf by leaf (a term or phrase in one field, each a cheap seek)."""
        by_address = {(a.segment_ord, a.doc): pid for a, pid in zip(addresses, ids, strict=True)}
        only = self._only(ids)
        leaves: dict[Leaf, dict[int, float]] = {}
        for leaf in leaves_of(expr):
            if any(searcher.doc_freq(leaf.field, s) == 0 for s in set(leaf.stems)):
                continue
            query = Query.boolean_query([(_M, only), (_M, leaf_query(self.schema, leaf))])
            found = searcher.search(query, len(ids), count=False).hits
            leaves[leaf] = {by_address[(a.segment_ord, a.doc)]: float(score) for score, a in found}
        return evaluate(expr, leaves)

    def more_like_this(
        self, paper_id: int, *, limit: int, text: dict[str, str] | None = None
    ) -> list[tuple[int, float]]:
        """Papers similar to one paper (from its text if given, else its stored title)."""
        searcher = self._searcher()
        if text is None:
            found = searcher.search(Query.term_query(self.schema, "id", paper_id), 1).hits
            if not found:
                return []
            text = {"title": str(searcher.doc(found[0][1]).get_first("title") or "")}
        fields = {k: [fold_acronym_plurals(v)] for k, v in text.items() if v.strip()}
        if not fields:
            return []
        mlt = Query.more_like_this_document_fields_query(
            self.schema,
            fields,
            min_doc_frequency=1,
            max_doc_frequency=max(10, searcher.num_docs // 5),
            min_term_frequency=1,
            max_query_terms=30,
            min_word_length=3,
        )
        query = Query.boolean_query(
            [
                (tantivy.Occur.Should, mlt),
                (tantivy.Occur.MustNot, Query.term_query(self.schema, "id", paper_id)),
            ]
        )
        hits, _ = self._run(query, limit=limit)
        return hits

    def match_topics(
        self,
        topics: Sequence[str],
        *,
        since: date,
        now: datetime,
        limit_per_topic: int = 200,
    ) -> dict[int, TopicMatch]:
        """Papers announced since a date matching any topic, with best relevance and topics."""
        self._searcher()
        per_paper: dict[int, dict[str, float]] = {}
        for topic in dict.fromkeys(topics):
            key = (topic, since, now.date().isoformat())
            hits = self._topic_cache.get(key)
            if hits is None:
                hits = self._topic_hits(topic, since, now, limit_per_topic)
                self._topic_cache[key] = hits
            for pid, score in hits:
                # A hit that scored nothing (e.g. matched only through an excluded word's
                # absence) is no match.
                if score > 0:
                    per_paper.setdefault(pid, {})[topic] = score
        out: dict[int, TopicMatch] = {}
        for pid, relevance in per_paper.items():
            ranked = sorted(relevance, key=lambda t: -relevance[t])  # stable: ties keep order
            out[pid] = TopicMatch(relevance[ranked[0]], tuple(ranked), relevance)
        return out

    def _topic_hits(
        self, topic: str, since: date, now: datetime, limit: int
    ) -> list[tuple[int, float]]:
        try:
            parsed = parse_query(topic, now=now)
        except ValueError:
            return []
        floor = max(since, parsed.since) if parsed.since else since
        parsed = SearchQuery(**{**parsed.__dict__, "since": floor})
        if not (parsed.has_text or parsed.authors or parsed.categories):
            return []
        hits = self.search(parsed, limit=limit).hits
        if not parsed.has_text:
            return [(pid, 1.0) for pid, _ in hits]
        best = hits[0][1] if hits and hits[0][1] > 0 else 1.0
        return [(pid, min(1.0, score / best)) for pid, score in hits]


__all__ = ["SCHEMA_VERSION", "SearchHits", "SearchIndex", "TopicMatch", "build_schema"]
