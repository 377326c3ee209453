from sqlalchemy import func, select

from paperbot.core.models import Paper


def test_migrated_database_is_empty(session_factory) -> None:
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Paper)) == 0
