"""The dependency rule: the core never imports platform code, the scheduler or adapters."""

from __future__ import annotations

import ast
from pathlib import Path

import paperbot

ROOT = Path(paperbot.__file__).parent
FORBIDDEN = ("slack_bolt", "slack_sdk", "discord", "apscheduler", "paperbot.adapters")


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_imports_no_platform_code() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in imports_of(path)
            if name.split(".")[0] in FORBIDDEN or name.startswith("paperbot.adapters")
        )
        for path in (ROOT / "core").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_adapter_packages_import_nothing_on_their_own() -> None:
    for init in (ROOT / "adapters").rglob("__init__.py"):
        assert imports_of(init) == set(), f"{init} should stay empty"


# config.py composes each platform's settings section, a plain model that lives with its adapter.
PLATFORM_SETTINGS = {"paperbot.adapters.slack.settings", "paperbot.adapters.discord.settings"}
SDKS = ("slack_bolt", "slack_sdk", "discord", "aiohttp", "starlette", "uvicorn")


def test_only_bootstrap_wires_core_and_adapters() -> None:
    for path in ROOT.glob("*.py"):
        if path.name == "bootstrap.py":
            continue
        allowed = PLATFORM_SETTINGS if path.name == "config.py" else set()
        adapters = {n for n in imports_of(path) if n.startswith("paperbot.adapters")}
        assert adapters <= allowed, path


def test_platform_settings_import_no_sdk() -> None:
    for name in PLATFORM_SETTINGS:
        path = ROOT.parent.joinpath(*name.split(".")).with_suffix(".py")
        imported = imports_of(path)
        assert not {n for n in imported if n.split(".")[0] in SDKS}, path
        assert not {n for n in imported if n.startswith("paperbot.")} - {"paperbot.config_types"}
