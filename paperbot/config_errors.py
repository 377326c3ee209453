"""Refused settings in words: which variable (or file key), its value unless secret, and why.

Also the TOML source, which names the file (and line) it cannot read instead of a parser's
exception, and refuses a PAPERBOT_CONFIG file that does not exist.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsError, TomlConfigSettingsSource

from paperbot.core.errors import ConfigError

PREFIX = "PAPERBOT_"
MAX_SHOWN = 80
_SECRET_WORDS = re.compile(r"token|secret|password|key", re.IGNORECASE)
_PASSWORD_IN_URL = re.compile(r"(//[^/:@]*:)[^@/]*@")


class TomlFile(TomlConfigSettingsSource):
    """config/paperbot.toml (or PAPERBOT_CONFIG): every problem is a ConfigError naming it."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path, *, required: bool) -> None:
        if required and not path.exists():
            raise ConfigError(f"PAPERBOT_CONFIG names {path}, which does not exist")
        super().__init__(settings_cls, toml_file=path)
        known = settings_cls.model_fields
        for key in self.toml_data:
            if key not in known:
                raise ConfigError(f"{path}: unknown setting {key!r}{_did_you_mean(key, known)}")

    def _read_file(self, file_path: Path | Traversable) -> dict[str, Any]:
        try:
            return super()._read_file(file_path)
        except tomllib.TOMLDecodeError as exc:  # its text ends with "(at line N, column M)"
            raise ConfigError(f"{file_path}: not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{file_path}: not UTF-8 text") from None
        except OSError as exc:
            raise ConfigError(f"cannot read {file_path}: {exc.strerror}") from None


def describe(exc: ValidationError | SettingsError, settings_cls: type[BaseModel]) -> str:
    """One line per refused setting."""
    if isinstance(exc, SettingsError):
        match = re.search(r'field "(\w+)"', str(exc))
        name = env_name([match.group(1)]) if match else PREFIX + "*"
        return f"invalid setting {name}: not valid JSON (or set {name}__<NAME> variables instead)"
    lines: dict[str, str] = {}
    for error in exc.errors():
        path, field, known = _field_path(settings_cls, error["loc"])
        key = ".".join(path)
        name, source = _where(path)
        if error["type"] == "extra_forbidden":
            hint = _did_you_mean(path[-1], known, path)
            lines[key] = f"unknown setting {name}{source}{hint}"
            continue
        reason = _reason(error)
        if key in lines:  # one field failing each side of a union: say both in one line
            lines[key] += f"; or {reason}"
            continue
        item = _item(error["loc"], len(path))
        shown = _shown(path, field, error.get("input"))
        lines[key] = f"invalid setting {name}{item}{shown}{source}: {reason}"
    return "\n".join(lines.values())


def misspelt_variables(settings_cls: type[BaseModel]) -> list[str]:
    """PAPERBOT_* variables (environment or .env) that look like a misspelt setting's name.

    Only near misses count (PAPERBOT_DATABSE_URL, PAPERBOT_DIGSET__...): other PAPERBOT_*
    variables may belong to tools around paperbot (PAPERBOT_CONFIG, test settings).
    """
    names = {key.upper() for key in os.environ}
    if Path(".env").is_file():
        from dotenv import dotenv_values

        names |= {key.upper() for key in dotenv_values(".env")}
    known = [name.upper() for name in settings_cls.model_fields]
    lines = []
    for name in sorted(names):
        head = name.removeprefix(PREFIX).split("__", 1)[0]
        if not name.startswith(PREFIX) or head in known or head == "CONFIG":
            continue
        close = difflib.get_close_matches(head, known, n=1, cutoff=0.8)
        if close:
            suggestion = PREFIX + close[0] + name.removeprefix(PREFIX + head)
            lines.append(f"unknown setting {name} (did you mean {suggestion}?)")
    return lines


def env_name(path: list[str]) -> str:
    return PREFIX + "__".join(part.upper() for part in path)


def mask_url(text: str) -> str:
    """A URL with its password replaced by ***."""
    return _PASSWORD_IN_URL.sub(r"\1***@", text)


def _field_path(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[list[str], Any, Any]:
    """The setting's names (section, field) from a pydantic location, with the field info."""
    path: list[str] = []
    field: Any = None
    fields: Any = model.model_fields
    current: Any = model
    for part in loc:
        if not isinstance(part, str) or current is None:
            break  # a list index or a union member: the setting is the path so far
        fields = current.model_fields
        path.append(part)
        field = fields.get(part)
        if field is None:
            break
        annotation = field.annotation
        section = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        current = annotation if section else None
    return path, field, fields


def _where(path: list[str]) -> tuple[str, str]:
    """The setting's name where it was set (variable or file key), and " in <file>" if any."""
    name = env_name(path)
    environ = {key.upper() for key in os.environ}
    for depth in range(len(path), 0, -1):
        if env_name(path[:depth]) in environ:
            return name, "" if depth == len(path) else f" (in {env_name(path[:depth])})"
    if _in_dotenv(path):
        return name, " in .env"
    toml, _asked = _config_path()
    if _in_toml(toml, path):
        return ".".join(path), f" in {toml}"
    return name, ""


def _item(loc: tuple[Any, ...], depth: int) -> str:
    """ " item 2" when one element of a list setting is wrong."""
    rest = loc[depth : depth + 1]
    return f" item {rest[0] + 1}" if rest and isinstance(rest[0], int) else ""


def _config_path() -> tuple[Path, bool]:
    from paperbot.config import config_file

    return config_file()


def _in_dotenv(path: list[str]) -> bool:
    env = Path(".env")
    if not env.is_file():
        return False
    from dotenv import dotenv_values

    names = {key.upper() for key in dotenv_values(env)}
    return any(env_name(path[:depth]) in names for depth in range(len(path), 0, -1))


def _in_toml(toml: Path, path: list[str]) -> bool:
    try:
        data: Any = tomllib.loads(toml.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def _secret(path: list[str], field: Any) -> bool:
    return (field is not None and SecretStr in _types(field.annotation)) or bool(
        _SECRET_WORDS.search(path[-1] if path else "")
    )


def _types(annotation: Any) -> set[Any]:
    args = getattr(annotation, "__args__", None)
    return {annotation} | ({t for a in args for t in _types(a)} if args else set())


def _shown(path: list[str], field: Any, value: Any) -> str:
    """`=value` for plain values; nothing for secrets, sections or lists."""
    if _secret(path, field):
        return " (value hidden)"
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    text = mask_url(str(value)) if path[-1].endswith("url") else str(value)
    if len(text) > MAX_SHOWN:
        text = text[:MAX_SHOWN] + "…"
    return f"={text!r}"


def _reason(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


def _did_you_mean(name: str, known: Any, path: list[str] | None = None) -> str:
    close = difflib.get_close_matches(name, list(known or ()), n=1)
    if not close:
        return ""
    if path is None:
        return f" (did you mean {close[0]!r}?)"
    return f" (did you mean {env_name([*path[:-1], close[0]])}?)"


__all__ = ["TomlFile", "describe", "env_name", "mask_url", "misspelt_variables"]
