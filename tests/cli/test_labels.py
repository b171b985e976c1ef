"""labels fetch as a seller meets it, on the Mercado Livre sandbox: one file per order that
has a label, the others listed with the reason; bad options refused in one line."""

import textwrap

import pytest

from tests.cli.test_subprocess import erpsync


@pytest.fixture
def sandbox(tmp_path, monkeypatch, run):
    """The Mercado Livre sandbox (its seeded order mix) pulled into store.db."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "labels").mkdir()
    (tmp_path / "erpsync.yaml").write_text(
        textwrap.dedent(
            """\
            database: sqlite:///store.db
            connectors:
              ml:
                type: mercadolivre
                sandbox: true
                initial_lookback_days: 30
                credentials:
                  client_id: sandbox-app
                  client_secret: sandbox-secret
                  refresh_token: TG-sandbox-refresh
            """
        )
    )
    pulled = run("pull-orders")
    assert pulled.exit_code == 0, pulled.stderr
    return tmp_path


def test_labels_fetch_writes_one_file_per_ready_order_and_says_why_not(sandbox, run):
    result = run("labels", "fetch", "--out", "labels")
    assert result.exit_code == 0, result.stderr
    files = sorted(p.name for p in (sandbox / "labels").iterdir())
    assert files and all(f.startswith("ml-") and f.endswith(".pdf") for f in files)
    assert "no label yet: waiting for the NF-e" in result.stderr
    assert "no label from the channel: the shipment is" in result.stderr  # shipped, delivered
    assert f"ml: {len(files)} label(s) written" in result.stderr
    shown = run("shipments", "show", files[0].removeprefix("ml-").removesuffix(".pdf"), "--json")
    assert shown.json()[0]["label_state"] == "fetched"
    again = run("labels", "fetch", "--out", "labels")
    assert "ml: 0 label(s) written" in again.stderr


def test_labels_fetch_for_one_order_in_zpl(sandbox, run):
    listed = [o["external_id"] for o in run("orders", "list", "--json").json()]
    shown = {i: run("shipments", "show", f"ml:{i}", "--json").json()[0] for i in listed}
    ready = [
        i
        for i, s in shown.items()
        if s["status"] == "ready_to_ship" and s["substatus"] != "invoice_pending"
    ]
    assert ready
    result = run("labels", "fetch", f"ml:{ready[0]}", "--format", "zpl", "--out", "labels")
    assert result.exit_code == 0, result.stderr
    [only] = list((sandbox / "labels").iterdir())
    assert only.name == f"ml-{ready[0]}.zpl"
    assert only.read_bytes().startswith(b"^XA")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "png"), "--format: 'png' is not pdf or zpl"),
        (("--out", "nowhere"), "--out: nowhere is not a folder"),
        (("ml:123",), "no order 'ml:123'"),
    ],
    ids=["format", "out", "order"],
)
def test_bad_options_are_one_line_exit_2(sandbox, args, message):
    done = erpsync("labels", "fetch", *args, cwd=sandbox)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("erpsync: error: ") and message in line
