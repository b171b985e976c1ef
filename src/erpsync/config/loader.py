"""Finds the config file, reads its YAML, expands ``${VAR}`` references, and picks the database."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode

from erpsync.config.messages import Loc, Problem, kind_of
from erpsync.errors import ConfigError

DEFAULT_FILENAME = "erpsync.yaml"
CONFIG_ENV = "ERPSYNC_CONFIG"
DATABASE_ENV = "ERPSYNC_DB"
DEFAULT_DATABASE = "sqlite:///erpsync.db"

_MERGE_TAG = "tag:yaml.org,2002:merge"
# $$ -> "$"; ${NAME} / ${NAME:-default}; any other "${" is a mistake worth reporting.
# A "$" followed by anything else stays literal, so passwords containing "$" survive.
_REFERENCE = re.compile(
    r"\$(?:(?P<escape>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<sep>:-(?P<default>[^}]*))?\}"
    r"|(?P<bad>\{))"
)
_BAD_REFERENCE = "invalid '${' reference: write ${VAR}, ${VAR:-default}, or $$ for a literal $"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_SQLITE_FILE = re.compile(r"(?P<scheme>sqlite(?:\+\w+)?):///(?P<path>[^?]*)(?P<query>\?.*)?")


@dataclass(frozen=True)
class Source:
    """The config file to read, and how messages name it (as the user wrote it)."""

    path: Path
    label: str
    #: appended to "file not found": where the path came from
    hint: str = ""


@dataclass
class Expanded:
    """The document after ``${VAR}`` expansion, with the references that could not expand."""

    data: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    #: key paths whose value failed to expand; validation errors under them are redundant
    failed: set[Loc] = field(default_factory=set)


def locate(path: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Source:
    """The config file: the explicit path, else ``$ERPSYNC_CONFIG``, else ``./erpsync.yaml``."""
    if path is not None and os.fspath(path):
        given = os.fspath(path)
        return Source(Path(given).expanduser(), given)
    from_env = env.get(CONFIG_ENV)
    if from_env:
        return Source(Path(from_env).expanduser(), from_env, f" (from {CONFIG_ENV})")
    return Source(Path(DEFAULT_FILENAME), DEFAULT_FILENAME, f" (use --config or {CONFIG_ENV})")


def read_document(source: Source) -> dict[str, Any]:
    """Read and parse the file; every failure is a one-line ConfigError naming the file."""
    label = source.label
    try:
        text = source.path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{label}: file not found{source.hint}") from None
    except IsADirectoryError:
        raise ConfigError(f"{label}: is a directory, not a config file") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{label}: is not UTF-8 text") from None
    return parse_yaml(text, label)


def parse_yaml(text: str, label: str) -> dict[str, Any]:
    """Parse YAML text whose top level must be a mapping."""
    try:
        document = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        # only the problem and position: str(exc) quotes the offending line, maybe a secret
        mark = exc.problem_mark or exc.context_mark
        where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark else label
        raise ConfigError(
            f"{where}: invalid YAML: {exc.problem or exc.context or 'syntax error'}"
        ) from None
    except yaml.YAMLError:
        raise ConfigError(f"{label}: invalid YAML") from None
    if document is None:
        raise ConfigError(f"{label}: the file is empty (expected database, stock and connectors)")
    if not isinstance(document, dict):
        raise ConfigError(
            f"{label}: the top level must be a mapping (key: value), not {kind_of(document)}"
        )
    return document


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that keeps keys as written text and refuses duplicate keys.

    Keys stay text so a connector named ``123`` or ``no`` is not read as a number or a
    boolean; a duplicate key is refused because YAML would silently keep the last one.
    """

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        own = sum(1 for key, _ in node.value if key.tag != _MERGE_TAG)
        self.flatten_mapping(node)
        merged = len(node.value) - own  # flatten_mapping puts "<<" pairs first
        mapping: dict[Any, Any] = {}
        own_keys: set[str] = set()
        for index, (key_node, value_node) in enumerate(node.value):
            key = _key_text(key_node)
            if index >= merged:  # a merged key may be overridden; a key written twice may not
                if key in own_keys:
                    raise ConstructorError(
                        None, None, f"duplicate key '{key}'", key_node.start_mark
                    )
                own_keys.add(key)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


def _key_text(node: Node) -> str:
    if not isinstance(node, ScalarNode):
        raise ConstructorError(None, None, "a key must be plain text", node.start_mark)
    return str(node.value)


def expand(document: dict[str, Any], env: Mapping[str, str]) -> Expanded:
    """Expand ``${VAR}``, ``${VAR:-default}`` and ``$$`` in every string value (not in keys).

    Expansion runs after parsing, so a variable's value is always plain text and cannot
    add YAML structure. Defaults are literal text (no nested references). ``${VAR:-d}``
    uses ``d`` when VAR is unset or empty, as in the shell.
    """
    result = Expanded(data={})
    result.data = _expand_node(document, (), env, result)
    return result


def _expand_node(node: Any, loc: Loc, env: Mapping[str, str], result: Expanded) -> Any:
    if isinstance(node, dict):
        return {key: _expand_node(value, (*loc, key), env, result) for key, value in node.items()}
    if isinstance(node, list):
        return [_expand_node(value, (*loc, i), env, result) for i, value in enumerate(node)]
    if isinstance(node, str) and "$" in node:
        text, errors = expand_text(node, env)
        if errors:
            result.problems.extend(Problem(loc, error) for error in errors)
            result.failed.add(loc)
        return text
    return node


def expand_text(text: str, env: Mapping[str, str]) -> tuple[str, list[str]]:
    """Expand one string; returns the text and the reasons any reference failed."""
    errors: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if match["escape"]:
            return "$"
        if match["bad"] is not None:
            if _BAD_REFERENCE not in errors:
                errors.append(_BAD_REFERENCE)
            return match[0]
        value = env.get(match["name"])
        if match["sep"] is not None:
            return value or match["default"]
        if value is None:
            errors.append(f"environment variable {match['name']} is not set")
            return ""
        return value

    return _REFERENCE.sub(replace, text), errors


def database_url_problem(url: str) -> str | None:
    """Why ``url`` is not an SQLAlchemy database URL, or None when it looks like one."""
    if not _URL.match(url.strip()):
        return "not a database URL (e.g. sqlite:///erpsync.db)"
    return None


def choose_database(
    db: str | None,
    env: Mapping[str, str],
    from_file: str | None,
    *,
    cwd: Path | None = None,
    config_dir: Path | None = None,
) -> str:
    """The database URL: ``db`` argument > ``$ERPSYNC_DB`` > the file > ``sqlite:///erpsync.db``.

    A relative SQLite path is made absolute: one from the config file (or the default) against
    the config file's folder (``config_dir``), so cron running from another folder reaches the
    same database; one typed as ``--db`` or ``$ERPSYNC_DB`` against the working directory,
    as a path typed on a command line is.
    """
    here = cwd or Path.cwd()
    if db:
        chosen, where = db, "--db"
    elif env.get(DATABASE_ENV):
        chosen, where = env[DATABASE_ENV], DATABASE_ENV
    else:
        chosen, where = from_file or DEFAULT_DATABASE, None
    problem = database_url_problem(chosen)
    if problem and where:  # the file's own value was checked with the other keys
        raise ConfigError(f"{where}: {problem}")
    base = here if where or config_dir is None else config_dir
    return absolute_sqlite_url(chosen.strip(), base)


def absolute_sqlite_url(url: str, cwd: Path) -> str:
    """``sqlite:///rel.db`` -> ``sqlite:////cwd/rel.db``; memory, URI and absolute kept."""
    match = _SQLITE_FILE.fullmatch(url)
    if not match:
        return url
    raw = match["path"]
    if raw in {"", ":memory:"} or raw.startswith("file:"):
        return url
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = cwd / path
    return f"{match['scheme']}:///{path.as_posix()}{match['query'] or ''}"
