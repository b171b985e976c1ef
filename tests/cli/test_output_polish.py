"""What the CLI prints, as a seller reads it: Full/FBA orders, grouped notes, times in the
seller's zone, plain text in pipes, one warning format, one log line per request (issue 7,
items 14 and 16)."""

import json
import re
import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from erpsync.cli.sync import _parse_since
from erpsync.errors import ConfigError
from tests.cli.test_subprocess import ROOT, erpsync, write_config


def _config(folder, extra_options=""):
    write_config(folder, generate=6)
    text = (folder / "erpsync.yaml").read_text() + extra_options
    (folder / "erpsync.yaml").write_text(text)


def test_orders_show_full_fba_in_list_show_and_json(tmp_path):
    """requirement: a sale the channel fulfilled says so, or it looks like a stock bug."""
    _config(tmp_path, "      fulfilled: [G00001]\n")
    assert erpsync("pull-orders", cwd=tmp_path).returncode == 0
    listed = {
        o["external_id"]: o
        for o in json.loads(erpsync("orders", "list", "--json", cwd=tmp_path).stdout)
    }
    assert listed["G00001"]["fulfilled_by_channel"] is True
    assert listed["G00000"]["fulfilled_by_channel"] is False
    table = erpsync("orders", "list", cwd=tmp_path).stdout.splitlines()
    assert table[0].split("\t")[-1] == "full/fba"
    assert [r.split("\t")[-1] for r in table[1:] if "\tG00001\t" in r] == ["yes"]
    shown = erpsync("orders", "show", "shop:G00001", cwd=tmp_path).stdout
    assert "fulfilled_by_channel\tyes (Full/FBA" in shown
    assert json.loads(erpsync("orders", "show", "G00001", "--json", cwd=tmp_path).stdout)[
        "fulfilled_by_channel"
    ]


def test_piped_orders_show_is_text_not_python_dicts(tmp_path):
    _config(tmp_path)
    erpsync("pull-orders", cwd=tmp_path)
    shown = erpsync("orders", "show", "shop:G00002", cwd=tmp_path).stdout
    assert "{'" not in shown and "':" not in shown
    assert "\nbuyer.name\t" in shown and "\nshipping_address.city\t" in shown


def test_times_are_shown_in_the_sellers_zone_and_json_stays_utc(tmp_path):
    """requirement: tables show America/Sao_Paulo (default) to the second; --json is UTC."""
    _config(tmp_path)
    erpsync("pull-orders", cwd=tmp_path)
    row = [r for r in erpsync("orders", "list", cwd=tmp_path).stdout.splitlines() if "G00000" in r]
    updated = row[0].split("\t")[4]
    assert updated == "2026-10-31 09:00:00-03:00"  # 12:00 UTC the day before T0
    status = erpsync("status", cwd=tmp_path).stdout
    assert re.search(r"\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d-03:00\tpull-orders", status)
    as_json = json.loads(erpsync("orders", "show", "G00000", "--json", cwd=tmp_path).stdout)
    assert as_json["updated_at"] == "2026-10-31T12:00:00+00:00"
    config = (tmp_path / "erpsync.yaml").read_text()
    (tmp_path / "erpsync.yaml").write_text("timezone: UTC\n" + config)
    row = [r for r in erpsync("orders", "list", cwd=tmp_path).stdout.splitlines() if "G00000" in r]
    assert row[0].split("\t")[4] == "2026-10-31 12:00:00+00:00"


def test_an_unknown_time_zone_is_a_config_error(tmp_path):
    _config(tmp_path)
    config = (tmp_path / "erpsync.yaml").read_text()
    (tmp_path / "erpsync.yaml").write_text("timezone: America/Sao_Paolo\n" + config)
    result = erpsync("status", cwd=tmp_path)
    assert result.returncode == 2
    assert "erpsync.yaml: timezone: unknown time zone (use an IANA name" in result.stderr


def test_status_groups_identical_notes(tmp_path):
    """requirement: one line per note with a count, not one per order."""
    _config(tmp_path, "      withheld: [G00001, G00002, G00004]\n")
    erpsync("pull-orders", cwd=tmp_path)
    [group] = json.loads(erpsync("status", "--json", cwd=tmp_path).stdout)["withheld"]
    assert group == {
        "connector": "shop",
        "note": "buyer withheld: restricted data off",
        "orders": 3,
        "latest": "G00004",
    }
    text = erpsync("status", cwd=tmp_path).stdout
    assert text.count("buyer withheld: restricted data off") == 1


def test_push_does_not_warn_each_run_about_skus_other_channels_sell(tmp_path):
    """requirement: SKUs without a listing here are said once, in status, not by every push."""
    _config(tmp_path)
    erpsync("products", "import", "products.csv", cwd=tmp_path)
    erpsync("listings", "link", "--force", "shop", "MLB1", "SKU-A", cwd=tmp_path)
    pushed = erpsync("push-stock", cwd=tmp_path)
    assert pushed.returncode == 0, pushed.stderr
    assert "without a listing" not in pushed.stderr and "warning" not in pushed.stderr
    status = erpsync("status", cwd=tmp_path)
    assert (
        "1 products have no listing on any channel (push-stock sends nothing for them): SKU-B"
        in status.stderr
    )


def test_a_quarantine_warning_reads_like_every_other_warning(tmp_path):
    _config(tmp_path, "      broken: [G00003]\n")
    result = erpsync("pull-orders", cwd=tmp_path)
    assert "warning: shop: order G00003 quarantined: ValueError: field 'total' is not a number" in (
        result.stderr.splitlines()
    )
    assert "WARNING" not in result.stderr


def test_verbose_logs_each_request_once(tmp_path):
    db = f"sqlite:///{tmp_path / 'v.db'}"
    result = erpsync(
        "-c",
        str(ROOT / "config.example.yaml"),
        "--db",
        db,
        "-v",
        "pull-orders",
        "-C",
        "ml-main",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "/oauth/token" in line]
    assert len(lines) == 1 and lines[0].startswith("debug erpsync.http: POST ")


def test_a_piped_authorization_code_gives_no_getpass_warning(tmp_path):
    (tmp_path / "erpsync.yaml").write_text(
        textwrap.dedent(
            """\
            database: sqlite:///a.db
            connectors:
              ml:
                type: mercadolivre
                sandbox: true
                credentials:
                  client_id: sandbox-app
                  client_secret: sandbox-secret
                options:
                  redirect_uri: https://erpsync.example/mercadolivre/callback
            """
        )
    )
    result = erpsync("connectors", "authorize", "ml", cwd=tmp_path, input="TG-not-a-real-code\n")
    assert "GetPassWarning" not in result.stderr and "echo" not in result.stderr
    assert "the authorization code was rejected" in result.stderr  # the piped code was used


def test_since_in_the_future_is_refused_with_a_reason():
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    with pytest.raises(
        ConfigError, match=r"is in the future .* re-pulls changes made after a past"
    ):
        _parse_since(tomorrow, "America/Sao_Paulo")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01", datetime(2026, 11, 1, 3, 0, tzinfo=UTC)),  # midnight in São Paulo
        ("2026-11-01 10:00", datetime(2026, 11, 1, 13, 0, tzinfo=UTC)),
        ("2026-11-01T10:00:00Z", datetime(2026, 11, 1, 10, 0, tzinfo=UTC)),
        ("2026-11-01T10:00:00+01:00", datetime(2026, 11, 1, 9, 0, tzinfo=UTC)),
    ],
)
def test_a_bare_since_date_is_midnight_in_the_sellers_zone(text, expected):
    assert _parse_since(text, "America/Sao_Paulo") == expected


def test_a_table_on_a_narrow_terminal_never_cuts_or_folds_an_id():
    """requirement (item 16): ids in a table can be pasted into `orders show`: on a terminal
    narrower than the table, the cell stays whole (the terminal wraps the line instead)."""
    import io

    from rich.console import Console

    from erpsync.cli.output import Output

    buffer = io.StringIO()
    output = Output(out=Console(file=buffer, force_terminal=True, width=40, no_color=True))
    order_id = "2000009876543210-ml-main-pack-2000004444555566"
    output.table("orders", ["connector", "order", "status"], [("ml-main", order_id, "paid")])
    assert order_id in buffer.getvalue()


def test_outside_a_terminal_messages_are_plain_lines_written_without_rich(capsys, monkeypatch):
    """requirement (issue 11 section 2): not a terminal (cron, CI, a pipe): each message is one
    plain line as written (no emoji codes or markup interpreted), on the stream in use at the
    time; Rich is asked only where a terminal may be (FORCE_COLOR, TTY_COMPATIBLE, a tty)."""
    from erpsync.cli.output import Output, PlainConsole

    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    output = Output()
    assert isinstance(output.err, PlainConsole) and isinstance(output.out, PlainConsole)
    assert not output.interactive
    output.info("ml: 2 fetched [bold]:smile:")
    output.warn("token expires soon")
    output.error("bad config")
    output.table("orders", ["connector", "order"], [("ml", "123")])
    captured = capsys.readouterr()
    assert captured.err == (
        "ml: 2 fetched [bold]:smile:\nwarning: token expires soon\nerpsync: error: bad config\n"
    )
    assert captured.out == "connector\torder\nml\t123\n"
    monkeypatch.setenv("FORCE_COLOR", "1")
    from rich.console import Console

    assert isinstance(Output().err, Console)
