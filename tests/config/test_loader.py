"""Locating and reading the config file, and choosing the database URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from erpsync.config import load_config
from erpsync.config.loader import absolute_sqlite_url
from erpsync.errors import EXIT_CONFIG, ConfigError

MINIMAL = "connectors: {}\n"


def _error(path: str | None = None, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=env or {})
    return caught.value


def test_explicit_path_wins_over_env_and_default(write):
    """requirement: --config beats ERPSYNC_CONFIG beats ./erpsync.yaml."""
    write(MINIMAL, "erpsync.yaml")
    write(MINIMAL, "from-env.yaml")
    write(MINIMAL, "conf/explicit.yaml")
    env = {"ERPSYNC_CONFIG": "from-env.yaml"}
    assert load_config("conf/explicit.yaml", env=env).path == Path("conf/explicit.yaml").resolve()
    assert load_config(env=env).path == Path("from-env.yaml").resolve()
    assert load_config(env={}).path == Path("erpsync.yaml").resolve()
    assert load_config(Path("conf/explicit.yaml"), env=env).path.name == "explicit.yaml"


@pytest.mark.parametrize(
    ("path", "env", "message"),
    [
        (None, {}, "erpsync.yaml: file not found (use --config or ERPSYNC_CONFIG)"),
        (
            None,
            {"ERPSYNC_CONFIG": ""},
            "erpsync.yaml: file not found (use --config or ERPSYNC_CONFIG)",
        ),
        (None, {"ERPSYNC_CONFIG": "prod.yaml"}, "prod.yaml: file not found (from ERPSYNC_CONFIG)"),
        ("conf/x.yaml", {"ERPSYNC_CONFIG": "prod.yaml"}, "conf/x.yaml: file not found"),
    ],
)
def test_missing_file_is_one_line(path, env, message):
    """requirement: a missing file is one line naming it and how to point at another."""
    error = _error(path, env)
    assert str(error) == message
    assert error.problems == [message]
    assert error.exit_code == EXIT_CONFIG


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "erpsync.yaml: the file is empty (expected database, stock and connectors)"),
        (
            "# only a comment\n",
            "erpsync.yaml: the file is empty (expected database, stock and connectors)",
        ),
        ("- a\n- b\n", "erpsync.yaml: the top level must be a mapping (key: value), not a list"),
        ("just text\n", "erpsync.yaml: the top level must be a mapping (key: value), not text"),
        (
            "stock:\n  safety_stock: [1\n",
            "erpsync.yaml:3:1: invalid YAML: expected ',' or ']', but got '<stream end>'",
        ),
        (
            "stock:\n  a: 1\n b: 2\n",
            "erpsync.yaml:3:2: invalid YAML: "
            "expected <block end>, but found '<block mapping start>'",
        ),
        (
            "database: x\n\tstock: 1\n",
            "erpsync.yaml:2:1: invalid YAML: found character '\\t' that cannot start any token",
        ),
        ("connectors:\n  a: {}\n  a: {}\n", "erpsync.yaml:3:3: invalid YAML: duplicate key 'a'"),
        ("? [a, b]\n: 1\n", "erpsync.yaml:1:3: invalid YAML: a key must be plain text"),
        ("a: 1\n---\nb: 2\n", "erpsync.yaml:2:1: invalid YAML: but found another document"),
        (
            "x: !secret abc\n",
            "erpsync.yaml:1:4: invalid YAML: "
            "could not determine a constructor for the tag '!secret'",
        ),
    ],
)
def test_unreadable_yaml_is_one_line_with_position(write, text, message):
    """requirement: syntax errors give file:line:column, empty / non-mapping files one line."""
    write(text)
    assert _error().problems == [message]


def test_yaml_error_never_quotes_the_offending_line(write):
    """requirement: PyYAML's snippet of the bad line (maybe a token) is not in the message."""
    write("connectors:\n  ml:\n    credentials: {refresh_token: TG-s3cr3t\n")
    assert "TG-s3cr3t" not in str(_error())


def test_directory_and_non_utf8_are_one_line(write):
    """requirement: unreadable files are one line too."""
    Path("adir").mkdir()
    assert str(_error("adir")) == "adir: is a directory, not a config file"
    Path("latin.yaml").write_bytes("database: 'ç'\n".encode("latin-1"))
    assert str(_error("latin.yaml")) == "latin.yaml: is not UTF-8 text"


def test_keys_are_text_and_merge_keys_may_be_overridden(write):
    """requirement: keys stay as written (no: is not False); YAML merge keys work."""
    write(
        """
        connectors:
          no:
            type: files
          "123": {type: files}
          base: &base {type: files, enabled: false}
          derived:
            <<: *base
            enabled: true
        """
    )
    config = load_config(env={})
    assert list(config.connectors) == ["no", "123", "base", "derived"]
    assert config.connectors["derived"].enabled is True
    assert config.connectors["base"].enabled is False


def test_utf8_bom_is_accepted(write):
    """requirement: files saved by Windows editors (UTF-8 with BOM) load."""
    Path("erpsync.yaml").write_bytes("\ufeffconnectors: {}\n".encode())
    assert load_config(env={}).connectors == {}


@pytest.mark.parametrize(
    ("db", "env", "in_file", "expected"),
    [
        (
            "sqlite:////a/arg.db",
            {"ERPSYNC_DB": "sqlite:////a/env.db"},
            "sqlite:////a/file.db",
            "sqlite:////a/arg.db",
        ),
        (
            None,
            {"ERPSYNC_DB": "sqlite:////a/env.db"},
            "sqlite:////a/file.db",
            "sqlite:////a/env.db",
        ),
        (None, {"ERPSYNC_DB": ""}, "sqlite:////a/file.db", "sqlite:////a/file.db"),
        (None, {}, "sqlite:////a/file.db", "sqlite:////a/file.db"),
        (None, {}, None, "sqlite:///{cwd}/erpsync.db"),
        (None, {}, "postgresql://u@h/db", "postgresql://u@h/db"),
    ],
)
def test_database_precedence(write, isolated, db, env, in_file, expected):
    """requirement: --db > ERPSYNC_DB > file > sqlite:///erpsync.db (relative to the cwd)."""
    write(f"database: {in_file}\n" if in_file else MINIMAL)
    config = load_config(db=db, env=env)
    assert config.database == expected.format(cwd=isolated.as_posix())


@pytest.mark.parametrize(
    ("db", "env", "message"),
    [
        ("erpsync.db", {}, "--db: not a database URL (e.g. sqlite:///erpsync.db)"),
        (
            None,
            {"ERPSYNC_DB": "nope"},
            "ERPSYNC_DB: not a database URL (e.g. sqlite:///erpsync.db)",
        ),
    ],
)
def test_bad_database_override_names_its_source(write, db, env, message):
    """requirement: a bad override is blamed on the flag or variable, not on the file."""
    write(MINIMAL)
    with pytest.raises(ConfigError) as caught:
        load_config(db=db, env=env)
    assert caught.value.problems == [message]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///erpsync.db", "sqlite:////work/erpsync.db"),
        ("sqlite:///data/x.db?timeout=5", "sqlite:////work/data/x.db?timeout=5"),
        ("sqlite+pysqlite:///x.db", "sqlite+pysqlite:////work/x.db"),
        ("sqlite:////abs/x.db", "sqlite:////abs/x.db"),
        ("sqlite://", "sqlite://"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("sqlite:///file:x.db?mode=ro&uri=true", "sqlite:///file:x.db?mode=ro&uri=true"),
        ("postgresql://u:p@h/db", "postgresql://u:p@h/db"),
    ],
)
def test_relative_sqlite_paths_resolve_against_cwd(url, expected):
    """requirement: a relative SQLite path is pinned to the working directory at load time."""
    assert absolute_sqlite_url(url, Path("/work")) == expected


def test_relative_paths_in_the_file_follow_the_file_not_the_working_directory(write, isolated):
    """requirement: cron runs from another folder: the file's relative SQLite path and option
    paths resolve against the config file's folder; --db and ERPSYNC_DB, typed on a command
    line, stay relative to the working directory."""
    write(
        """\
        database: sqlite:///data/store.db
        connectors:
          shop: {type: files, options: {drop_folder: out, inbox: in}}
          abs: {type: files, options: {drop_folder: /srv/out}}
        """,
        "project/erpsync.yaml",
    )
    project = isolated / "project"
    config = load_config("project/erpsync.yaml", env={})
    assert config.database == f"sqlite:///{project.as_posix()}/data/store.db"
    assert config.connectors["shop"].options.drop_folder == project / "out"
    assert config.connectors["abs"].options.drop_folder == Path("/srv/out")
    assert load_config("project/erpsync.yaml", db="sqlite:///x.db", env={}).database == (
        f"sqlite:///{isolated.as_posix()}/x.db"
    )
    env = {"ERPSYNC_DB": "sqlite:///y.db"}
    assert load_config("project/erpsync.yaml", env=env).database == (
        f"sqlite:///{isolated.as_posix()}/y.db"
    )
    write("connectors: {}\n", "other/erpsync.yaml")
    assert load_config("other/erpsync.yaml", env={}).database == (
        f"sqlite:///{(isolated / 'other').as_posix()}/erpsync.db"
    )
