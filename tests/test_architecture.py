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


def test_core_names_no_platform() -> None:
    """Platform behaviour and wording live in the adapters (ChatPlatform.probe_backoff,
    Caller.managers): no code in the core compares against a platform's name."""
    names = {"slack", "discord", "console"}
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in (ROOT / "core").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value in names
    ]
    assert found == []


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


# --- every package has its rule --------------------------------------------------------------

# What the outer layers may import of the core: the service and the value types, errors and
# helpers its methods take and give. Nothing else of paperbot.core: no store, no db, no index.
PUBLIC_SURFACE = {
    "paperbot.core.service",  # Paperbot and its value types (ChannelOptions, DigestPreview...)
    "paperbot.core.messages",  # Reply, Digest, PaperCard, ChannelRef
    "paperbot.core.commands",  # the command grammar and Caller
    "paperbot.core.ports",  # the ChatPlatform port the adapters implement, DeliveryError
    "paperbot.core.errors",  # the error tree each front end maps once
    "paperbot.core.limits",  # page, size and length limits (button codecs, option ranges)
    "paperbot.core.printable",  # cleaning third-party text for a terminal
    "paperbot.core.progress",  # the progress callback type long CLI work reports through
    "paperbot.core.metrics",  # the /metrics endpoint (web.py)
    "paperbot.core.panics",  # which exceptions a scheduler thread may survive (scheduling.py)
}
# The composition root may import anything; these are everything else outside the core.
OUTER = ("cli", "adapters", "web.py", "scheduling.py", "__main__.py")
# config.py composes the settings (core sections and the platforms' own); bootstrap wires all.
TOP_LEVEL = {"bootstrap.py", "config.py", "config_errors.py", "config_types.py", "__init__.py"}


def python_files(where: str) -> list[Path]:
    path = ROOT / where
    return sorted(path.rglob("*.py")) if path.is_dir() else [path]


def test_every_module_falls_under_a_rule() -> None:
    covered = {p for where in ("core", *OUTER) for p in python_files(where)}
    covered |= {ROOT / name for name in TOP_LEVEL}
    assert set(ROOT.rglob("*.py")) - covered == set()


def test_outer_layers_use_the_services_public_surface_only() -> None:
    offenders = {}
    for where in OUTER:
        for path in python_files(where):
            core = {n for n in imports_of(path) if n.startswith("paperbot.core")}
            if bad := sorted(core - PUBLIC_SURFACE - {"paperbot.core"}):
                offenders[str(path.relative_to(ROOT))] = bad
            # `from paperbot.core import x` names a module too: x must be public as well.
            assert not _core_modules_from_package(path) - PUBLIC_SURFACE, path
    assert offenders == {}


def _core_modules_from_package(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module == "paperbot.core":
            names.update(f"paperbot.core.{alias.name}" for alias in node.names)
    return names


def test_cli_and_adapters_stay_out_of_each_others_way() -> None:
    for path in python_files("adapters"):
        imported = imports_of(path)
        assert not {n for n in imported if n.startswith("paperbot.cli")}, path
        assert not {"paperbot.bootstrap", "paperbot.web", "paperbot.scheduling"} & imported, path
        # The platforms mirror each other; neither imports the other.
        for platform, other in (("slack", "discord"), ("discord", "slack")):
            if f"adapters/{platform}/" in path.as_posix():
                assert not {n for n in imported if n.startswith(f"paperbot.adapters.{other}")}
    for path in python_files("cli"):
        assert not {"paperbot.web", "paperbot.scheduling"} & imports_of(path), path


# --- sizes and signatures --------------------------------------------------------------------

MAX_PARAMETERS = 7
MAX_MODULE_LINES = 400


def test_no_function_takes_more_than_seven_parameters() -> None:
    too_many = []
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                a = node.args
                count = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs)
                count += (a.vararg is not None) + (a.kwarg is not None)
                if count > MAX_PARAMETERS:
                    too_many.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} {count}")
    assert too_many == []


def test_no_module_is_over_400_lines() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in ROOT.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def test_every_module_says_what_it_owns() -> None:
    missing = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if path.stat().st_size and ast.get_docstring(ast.parse(path.read_text())) is None
    ]
    assert missing == []


# --- one error tree --------------------------------------------------------------------------

# Public exceptions outside the tree, each with the reason it stays out.
NOT_FOR_PEOPLE = {
    # Control flow inside one delivery (another worker owns the row now): never explained to
    # anyone, and as a PaperbotError it would be answered to a person should it escape.
    "paperbot.core.delivery.claiming.LostClaim",
}


def paperbot_modules() -> list[str]:
    names = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if "migrations" in parts or parts[-1] == "__main__":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(names)


def test_every_public_exception_derives_from_paperbot_error() -> None:
    import importlib
    import inspect

    from paperbot.core.errors import PaperbotError

    outside = []
    for name in paperbot_modules():
        module = importlib.import_module(name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            defined_here = cls.__module__ == name and not cls_name.startswith("_")
            if defined_here and issubclass(cls, BaseException):
                qualified = f"{name}.{cls_name}"
                if not issubclass(cls, PaperbotError) and qualified not in NOT_FOR_PEOPLE:
                    outside.append(qualified)
    assert outside == []


def test_a_value_error_is_never_a_user_error() -> None:
    from paperbot.core.errors import PaperbotError

    assert not issubclass(ValueError, PaperbotError)
    assert not issubclass(PaperbotError, ValueError)
