"""OAuth installation store in paperbot's database: migration 0002, tokens encrypted at rest."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, MetaData, inspect, text

from paperbot.adapters.slack.installation import (
    AsyncInstallationStoreAdapter,
    InstallationConfigError,
    build_stores,
    make_cipher,
)
from paperbot.core.models import Base

KEY = Fernet.generate_key().decode()
SLACK_TABLES = {"slack_installations", "slack_bots", "slack_oauth_states"}


def installation(team: str, token: str = "xoxb-secret-123") -> Installation:
    return Installation(
        app_id="A1",
        team_id=team,
        team_name="Team",
        bot_token=token,
        bot_id="B1",
        bot_user_id="UBOT",
        bot_scopes="commands,chat:write",
        user_id="U1",
        user_token="xoxp-user-secret",
        installed_at=datetime.now(UTC).timestamp(),
    )


def test_migration_creates_slack_sdk_tables_with_its_columns(engine: Engine) -> None:
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) >= SLACK_TABLES
    sdk = MetaData()
    tables = [
        SQLAlchemyInstallationStore.build_installations_table(sdk, "slack_installations"),
        SQLAlchemyInstallationStore.build_bots_table(sdk, "slack_bots"),
        SQLAlchemyOAuthStateStore.build_oauth_states_table(sdk, "slack_oauth_states"),
    ]
    for table in tables:
        columns = {c["name"]: c for c in inspector.get_columns(table.name)}
        assert set(columns) == {c.name for c in table.columns}, table.name
        for column in table.columns:
            if not column.primary_key:
                assert columns[column.name]["nullable"] == column.nullable, column.name
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        assert {i.name for i in table.indexes} <= indexes


def test_autogenerate_leaves_slack_tables_alone_with_the_filter(engine: Engine) -> None:
    def include_object(
        obj: object, name: str | None, type_: str, reflected: bool, other: object
    ) -> bool:
        return not (
            type_ == "table" and reflected and other is None and (name or "").startswith("slack_")
        )

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        diff = compare_metadata(context, Base.metadata)
    assert not [d for d in diff if "slack_" in repr(d)]


def test_tokens_are_encrypted_at_rest_and_read_back(engine: Engine) -> None:
    team = "T" + uuid.uuid4().hex[:8]
    store, _ = build_stores("cid-" + team, engine, KEY)
    store.save(installation(team))
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT bot_token, user_token FROM slack_installations WHERE team_id = :t"),
            {"t": team},
        ).all()
        bots = conn.execute(
            text("SELECT bot_token FROM slack_bots WHERE team_id = :t"), {"t": team}
        ).all()
    stored = [v for row in [*rows, *bots] for v in row]
    assert len(stored) == 3
    assert all(v and "secret" not in v and v.startswith("gAAAA") for v in stored)
    assert store.bot_token(team) == "xoxb-secret-123"
    found = store.find_installation(enterprise_id=None, team_id=team)
    assert found is not None and found.user_token == "xoxp-user-secret"


def test_wrong_key_reads_no_token(engine: Engine) -> None:
    team = "T" + uuid.uuid4().hex[:8]
    store, _ = build_stores("cid", engine, KEY)
    store.save(installation(team))
    other, _ = build_stores("cid", engine, Fernet.generate_key().decode())
    assert other.bot_token(team) is None


def test_key_rotation_reads_old_tokens(engine: Engine) -> None:
    team = "T" + uuid.uuid4().hex[:8]
    build_stores("cid", engine, KEY)[0].save(installation(team))
    rotated, _ = build_stores("cid", engine, f"{Fernet.generate_key().decode()},{KEY}")
    assert rotated.bot_token(team) == "xoxb-secret-123"


@pytest.mark.parametrize("key", [None, "", "not-a-key"])
def test_missing_or_bad_key_is_a_clear_error(key: str | None) -> None:
    with pytest.raises(InstallationConfigError, match="TOKEN_ENCRYPTION_KEY"):
        make_cipher(key)


async def test_async_adapter_deletes_a_workspace(engine: Engine) -> None:
    team = "T" + uuid.uuid4().hex[:8]
    store, states = build_stores("cid", engine, KEY)
    adapter = AsyncInstallationStoreAdapter(store)
    await adapter.async_save(installation(team))
    assert (await adapter.async_find_bot(enterprise_id=None, team_id=team)) is not None
    await adapter.async_delete_all(enterprise_id=None, team_id=team)
    assert (await adapter.async_find_bot(enterprise_id=None, team_id=team)) is None
    assert store.find_installation(enterprise_id=None, team_id=team) is None
    state = states.issue()
    assert states.consume(state) is True
    assert states.consume(state) is False
