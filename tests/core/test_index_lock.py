"""One index writer across processes: a CLI ingest beside a running bot leaves the index whole."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from cli_helpers import cli_env, paperbot
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.search import SearchIndex, parse_query

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def found(index: SearchIndex, text: str) -> int:
    return len(index.search(parse_query(text, now=NOW), limit=10).hits)


def test_cli_ingest_defers_to_the_process_holding_the_writer(
    session_factory: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    holder = SearchIndex(tmp_path / "index", keep_writer=True)  # what `paperbot run` does
    holder.catch_up(session_factory)
    papers = tmp_path / "p.jsonl"
    papers.write_text(json.dumps({"title": "Mamba layers", "abstract": "State spaces."}) + "\n")
    done = paperbot(
        "ingest", "--source", "file", str(papers),
        env=cli_env(database_url, tmp_path), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 new" in done.stdout and "indexed 0" in done.stdout
    assert found(holder, "mamba") == 0  # in SQL, not yet in the index
    assert holder.catch_up(session_factory) == 1  # the holder catches up from the counter
    assert found(holder, "mamba") == 1
    holder.close()
    reader = SearchIndex(tmp_path / "index")
    assert found(reader, "mamba") == 1
    reader.close()
