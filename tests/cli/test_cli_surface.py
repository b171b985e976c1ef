"""The command line's surface as a real process: global options anywhere, --version, help
without type noise (issue 7, items 11 and 16)."""

import pytest

from tests.cli.test_subprocess import erpsync, write_config


def test_global_options_are_accepted_after_the_command(tmp_path):
    """requirement: cron lines put -c/--db/-v/-q after the command; both places work."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    write_config(project, generate=3)
    config, db = str(project / "erpsync.yaml"), f"sqlite:///{tmp_path / 'other.db'}"
    pulled = erpsync("pull-orders", "-c", config, "--db", db, "-q", cwd=elsewhere)
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stderr == ""  # -q after the command took effect
    listed = erpsync("orders", "list", "--json", f"--config={config}", f"--db={db}", cwd=elsewhere)
    assert listed.returncode == 0, listed.stderr
    assert len(__import__("json").loads(listed.stdout)) == 3
    mixed = erpsync("-v", "status", "--config", config, "--db", db, cwd=elsewhere)
    assert mixed.returncode == 0, mixed.stderr


def test_version(tmp_path):
    result = erpsync("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("erpsync ") and result.stdout.strip() != "erpsync"


@pytest.mark.parametrize(
    "command",
    [["--help"], ["pull-orders", "--help"], ["push-stock", "--help"], ["orders", "list", "--help"]],
)
def test_help_shows_no_type_noise_and_every_option_has_help(tmp_path, command):
    """requirement: flags do not look as if they took values; -C says what it does."""
    text = erpsync(*command, cwd=tmp_path).stdout
    assert "<bool>" not in text and "<list[str]>" not in text and "<str>" not in text
    for line in text.splitlines():
        if line.strip().startswith("-C"):
            assert "Only this connector" in line


def test_orders_list_documents_limit(tmp_path):
    text = erpsync("orders", "list", "--help", cwd=tmp_path).stdout
    assert "--limit N" in text and "Show at most N orders" in text


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_orders_list_says_when_it_stops_at_the_limit(tmp_path, json_flag):
    """requirement: a truncated list says "showing 100 of N" on stderr (table and --json)."""
    write_config(tmp_path, generate=120)
    assert erpsync("pull-orders", cwd=tmp_path).returncode == 0
    result = erpsync("orders", "list", *json_flag, cwd=tmp_path)
    assert result.returncode == 0
    assert "showing 100 of 120 orders (--limit N shows more)" in result.stderr
    whole = erpsync("orders", "list", "--limit", "500", *json_flag, cwd=tmp_path)
    assert "showing" not in whole.stderr


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            ["pull-orderz"],
            "No such command 'pull-orderz'. Did you mean 'pull-orders', 'push-orders'? "
            "(see 'erpsync --help')",
        ),
        (["pull-orders", "--bogus"], "No such option: --bogus (see 'erpsync pull-orders --help')"),
        (["orders", "show"], "Missing argument 'ID'. (see 'erpsync orders show --help')"),
    ],
)
def test_a_usage_error_is_one_line_with_where_to_look_and_exit_2(tmp_path, command, expected):
    """requirement: like every other error, a usage error is one line a cron mail can show
    (Click's own form is four: usage, hint, blank line, error)."""
    write_config(tmp_path, generate=0)
    result = erpsync(*command, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"erpsync: error: {expected}\n"
    assert result.stdout == ""


def test_no_command_shows_the_help_and_exits_2(tmp_path):
    result = erpsync(cwd=tmp_path)
    assert result.returncode == 2
    assert "Usage: erpsync" in result.stdout + result.stderr
