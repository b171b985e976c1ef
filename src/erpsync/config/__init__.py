"""Loading erpsync.yaml: ``load_config`` reads, expands, validates (two passes) and freezes it.

Steps: locate the file (``path`` > ``$ERPSYNC_CONFIG`` > ``./erpsync.yaml``) -> parse YAML ->
expand ``${VAR}`` / ``${VAR:-default}`` / ``$$`` in string values -> pass 1: top-level shape
(unknown keys are errors at every level) -> pass 2: each connector's ``credentials`` and
``options`` against its type's ``Credentials`` / ``Options`` models, found through
``erpsync.registry``. Problems from every step are collected and raised together as one
ConfigError whose ``problems`` holds one ``file: key.path: what is wrong`` line each, in file
order. Input values are never echoed, so a secret under a wrong key cannot leak into a message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from erpsync.config.loader import (
    CONFIG_ENV,
    DATABASE_ENV,
    DEFAULT_DATABASE,
    DEFAULT_FILENAME,
    Expanded,
    choose_database,
    expand,
    locate,
    read_document,
)
from erpsync.config.messages import Problem, config_error
from erpsync.config.schema import (
    Config,
    StockSettings,
    invoice_hold_problems,
    settings_for,
    stock_source_problems,
    validate_connectors,
    validate_shape,
)

__all__ = [
    "CONFIG_ENV",
    "DATABASE_ENV",
    "DEFAULT_DATABASE",
    "DEFAULT_FILENAME",
    "Config",
    "StockSettings",
    "load_config",
    "parse_config",
]


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    db: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Read, validate and freeze the config file.

    Args:
        path: the file (CLI ``--config``); None falls back to ``$ERPSYNC_CONFIG``, then
            ``./erpsync.yaml``.
        db: database URL override (CLI ``--db``); wins over ``$ERPSYNC_DB`` and the file.
        env: environment for ``ERPSYNC_*`` and ``${VAR}`` expansion; default ``os.environ``.

    Returns:
        The frozen Config. Relative paths in the file (a SQLite ``database``, connector
        options that are paths) are made absolute against the file's folder; a relative
        SQLite path in ``db`` or ``$ERPSYNC_DB`` against the current working directory.

    Raises:
        ConfigError: with one line per problem in ``.problems`` (all problems, not the first).
    """
    environ = os.environ if env is None else env
    source = locate(path, environ)
    document = read_document(source)
    return parse_config(
        document, label=source.label, path=source.path.resolve(), db=db, env=environ
    )


def parse_config(
    document: Mapping[str, Any],
    *,
    label: str = DEFAULT_FILENAME,
    path: Path | None = None,
    db: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Validate an already-parsed document (what ``load_config`` does after reading the file).

    ``label`` names the file in messages. Useful for tests and tools that build configs
    in memory; ``${VAR}`` expansion and the database precedence apply as in ``load_config``.
    """
    environ = os.environ if env is None else env
    expanded = expand(dict(document), environ)
    data = expanded.data
    shape, shape_problems = validate_shape(data)
    checked, connector_problems = validate_connectors(data)
    connector_problems += stock_source_problems(data, checked)
    connector_problems += invoice_hold_problems(data, checked)
    problems = expanded.problems + _not_redundant(shape_problems + connector_problems, expanded)
    if problems or shape is None:
        raise config_error(label, problems, data)
    base_dir = None if path is None else path.parent
    return Config(
        path=path,
        database=choose_database(
            db, environ, shape.database, config_dir=None if path is None else path.parent
        ),
        timezone=shape.timezone,
        stock=shape.stock,
        connectors={
            name: settings_for(name, block, checked[name], shape.stock, base_dir=base_dir)
            for name, block in shape.connectors.items()
        },
        connector_classes={name: checked[name].cls for name in shape.connectors},
    )


def _not_redundant(problems: list[Problem], expanded: Expanded) -> list[Problem]:
    # a value that failed to expand is reported once, not again as "must be an integer"
    return [
        problem
        for problem in problems
        if problem.text == "unknown key"
        or not any(problem.loc[: len(loc)] == loc for loc in expanded.failed)
    ]
