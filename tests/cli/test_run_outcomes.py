"""Failures that must not look like success, run as real processes: exit codes cron can alert
on, Ctrl-C, killed runs, and how `status` shows each (issue 7, items 6 and 8)."""

import signal

from tests.cli.test_subprocess import erpsync, start_slow_pull, write_config

FAILING_PUSH = """\
  paused:
    type: tests.engine.fakes:FakeConnector
    options:
      fail_skus: [SKU-A]
"""


def _status(folder):
    import json

    result = erpsync("status", "--json", cwd=folder)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_push_with_a_failed_listing_exits_3_and_is_recorded_as_partial(tmp_path):
    """requirement: "1 failed" is not success: exit 3 (distinct from 1 and 2), run partial."""
    write_config(tmp_path, generate=0)
    with (tmp_path / "erpsync.yaml").open("a") as config:
        config.write(FAILING_PUSH)
    assert erpsync("products", "import", "products.csv", cwd=tmp_path).returncode == 0
    assert erpsync("stock", "set", "SKU-A", "5", cwd=tmp_path).returncode == 0
    assert (
        erpsync("listings", "link", "--force", "paused", "MLB1", "SKU-A", cwd=tmp_path).returncode
        == 0
    )

    result = erpsync("push-stock", "-C", "paused", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    assert "paused: 0 sent, 1 failed, 0 unchanged" in result.stderr
    assert "erpsync: error: paused: partial: 1 listing failed" in result.stderr
    [run] = [r for r in _status(tmp_path)["runs"] if r["command"] == "push-stock"]
    assert (run["outcome"], run["error"]) == ("partial", "1 listing failed")
    shown = erpsync("status", cwd=tmp_path).stdout
    assert "push-stock\tpaused\tpartial" in shown


def test_newly_quarantined_orders_exit_3_once(tmp_path):
    """requirement: a pull that quarantines new orders exits 3; the next pull, which finds
    nothing new to quarantine, exits 0."""
    write_config(tmp_path, generate=5)
    with (tmp_path / "erpsync.yaml").open("a") as config:
        config.write("      broken: [G00002]\n")
    first = erpsync("pull-orders", cwd=tmp_path)
    assert first.returncode == 3, first.stderr
    assert "erpsync: error: shop: partial: 1 order quarantined" in first.stderr
    assert _status(tmp_path)["runs"][0]["outcome"] == "partial"
    again = erpsync("pull-orders", "--since", "2000-01-01", cwd=tmp_path)
    assert again.returncode == 0, again.stderr


def test_a_rejected_order_file_exits_3(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "bad.json").write_text("{not json")
    (tmp_path / "erpsync.yaml").write_text(
        "database: sqlite:///store.db\n"
        "connectors:\n  files:\n    type: files\n    options:\n"
        f"      inbox: {inbox}\n"
    )
    result = erpsync("pull-orders", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    assert "files: 0 fetched, 0 new, 0 updated, 0 quarantined, 1 files rejected" in result.stderr
    [run] = _status(tmp_path)["runs"]
    assert run["outcome"] == "partial" and run["counts"]["rejected"] == 1


def test_orders_list_with_an_unknown_connector_is_the_usual_error(tmp_path):
    write_config(tmp_path, generate=0)
    erpsync("pull-orders", cwd=tmp_path)
    result = erpsync("orders", "list", "-C", "nope", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "erpsync: error: unknown connector 'nope' (configured: shop)\n"


def test_ctrl_c_says_interrupted_exits_130_and_is_recorded(tmp_path):
    """requirement: Ctrl-C: "interrupted" on stderr, exit 130, the run recorded as interrupted."""
    process = start_slow_pull(tmp_path)
    [run] = _status(tmp_path)["runs"]
    assert run["outcome"] == "running"  # the lock is held: this one really is running
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert stderr.strip().splitlines()[-1] == "erpsync: error: interrupted"
    assert "Traceback" not in stderr
    [run] = _status(tmp_path)["runs"]
    assert run["outcome"] == "interrupted" and run["finished_at"]


def test_a_killed_run_shows_as_died_not_running_forever(tmp_path):
    process = start_slow_pull(tmp_path)
    process.kill()
    process.communicate(timeout=30)
    [run] = _status(tmp_path)["runs"]
    assert run["outcome"] == "died"
    assert "pull-orders\tshop\tdied" in erpsync("status", cwd=tmp_path).stdout


def test_listings_link_refuses_a_listing_the_channel_never_listed(tmp_path):
    """requirement (item 9): `listings link shop MLB9999 SKU-A` for a listing `listings pull`
    never found is refused in one line (exit 2, nothing linked), since every later push would
    fail on it; a pulled listing links, and --force links one not pulled yet."""
    write_config(tmp_path, generate=0, listings=2)
    assert erpsync("products", "import", "products.csv", cwd=tmp_path).returncode == 0
    assert erpsync("listings", "pull", cwd=tmp_path).returncode == 0

    refused = erpsync("listings", "link", "shop", "MLB9999", "SKU-A", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "erpsync: error: shop has no listing 'MLB9999' among the listings pulled: check the id, "
        "run `erpsync listings pull -C shop`, or link it anyway with --force"
    ]
    linked = erpsync("listings", "list", "--json", cwd=tmp_path)
    assert "MLB9999" not in linked.stdout

    assert erpsync("listings", "link", "shop", "L00001", "SKU-B", cwd=tmp_path).returncode == 0
    forced = erpsync("listings", "link", "--force", "shop", "MLB9999", "SKU-A", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert "MLB9999" in erpsync("listings", "list", "--json", cwd=tmp_path).stdout
