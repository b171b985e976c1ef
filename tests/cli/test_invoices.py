"""invoices attach | import | list | show | danfe as a user meets them, and the refusals as a
real process: one line, exit 2, nothing stored."""

import json
import sqlite3
import textwrap

import pytest

from erpsync.domain import Buyer, Order, OrderItem
from erpsync.postsale.nfe_builder import BUYER_CNPJ, BUYER_CPF, NfeSpec, build_nfe, tampered_key
from erpsync.store import open_store, orders
from tests.cli.test_subprocess import erpsync

ORDER = {
    "external_id": "LV-2001",
    "number": "2001",
    "status": "paid",
    "created_at": "2026-11-01T12:00:00-03:00",
    "updated_at": "2026-11-01T12:05:00-03:00",
    "items_total": "20.00",
    "total": "20.00",
    "buyer": {"name": "Ana", "document": BUYER_CPF},
    "items": [{"sku": "SKU-A", "quantity": 2, "unit_price": "10.00"}],
}


@pytest.fixture
def shop(tmp_path, monkeypatch, run):
    """A files connector with one paid order (20.00, a CPF buyer) pulled into store.db, and a
    Mercado Livre order stored as a pull would have stored it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "inbox").mkdir()
    (tmp_path / "outbox").mkdir()
    (tmp_path / "inbox" / "orders.json").write_text(json.dumps([ORDER]))
    (tmp_path / "erpsync.yaml").write_text(
        textwrap.dedent(
            """\
            database: sqlite:///store.db
            connectors:
              shop:
                type: files
                initial_lookback_days: 36500
                options:
                  inbox: inbox
                  outbox: outbox
            """
        )
    )
    assert run("pull-orders").exit_code == 0
    store = open_store(f"sqlite:///{tmp_path}/store.db")
    with store.session() as s:
        ml = Order(
            connector="ml-main",
            platform="Mercado Livre",
            external_id="2000009999",
            status="paid",
            channel_status="paid",
            created_at="2026-11-01T12:00:00-03:00",
            updated_at="2026-11-01T12:00:00-03:00",
            items_total="20.00",
            total="20.00",
            buyer=Buyer(document=BUYER_CPF),
            items=(OrderItem(sku="SKU-A", quantity=2, unit_price="10.00"),),
        )
        orders.save_order(s, ml, {}, "deducted")
    store.close()
    return tmp_path


def _write(folder, name, xml):
    path = folder / name
    path.write_bytes(xml)
    return path


def _count(folder):
    with sqlite3.connect(folder / "store.db") as conn:
        return conn.execute("SELECT count(*) FROM invoices").fetchone()[0]


def test_attach_then_list_show_and_danfe(shop, run):
    xml = build_nfe(x_ped="LV-2001", freight="0.00")
    _write(shop, "nfe.xml", xml)
    result = run("invoices", "attach", "shop:LV-2001", "nfe.xml")
    key = NfeSpec().key
    assert result.exit_code == 0, result.stderr
    assert f"shop:LV-2001: NF-e {key} attached; order is invoiced" in result.stderr
    assert run("orders", "show", "LV-2001", "--json").json()["status"] == "invoiced"
    assert (
        run("invoices", "attach", "2001", "nfe.xml").stderr.strip().endswith("was already attached")
    )

    listed = run("invoices", "list", "--json").json()
    assert listed == [
        {
            "order": "shop:LV-2001",
            "number": 1234,
            "series": 1,
            "model": "55",
            "access_key": key,
            "issued_at": "2026-11-02T13:00:00+00:00",
            "total": "20.00",
            "pushed": {},
        }
    ]
    assert run("invoices", "list", "--pending", "--json").json() == listed
    shown = run("invoices", "show", "shop:LV-2001", "--json").json()
    assert shown[0]["protocol"] == "135260000012345" and shown[0]["source"] == "manual"
    assert run("invoices", "show", "shop:LV-2001", "--xml").stdout.encode() == xml + b"\n"
    table = run("orders", "show", "shop:LV-2001")
    assert key in table.stdout

    danfe = run("invoices", "danfe", "shop:LV-2001", "--out", "pdf")
    assert danfe.exit_code == 0, danfe.stderr
    assert (shop / "pdf" / f"DANFE-{key}.pdf").read_bytes().startswith(b"%PDF")


def test_forced_attach_is_recorded_and_warned(shop, run):
    _write(shop, "nfe.xml", build_nfe(recipient=BUYER_CNPJ))
    result = run("invoices", "attach", "shop:LV-2001", "nfe.xml", "--force")
    assert result.exit_code == 0
    assert "warning: forced: the NF-e has a recipient CPF/CNPJ other than" in result.stderr
    assert run("invoices", "show", "LV-2001", "--json").json()[0]["forced"] == ["recipient"]


def test_import_attaches_what_matches_and_lists_the_rest(shop, run):
    inbox = shop / "nfes"
    inbox.mkdir()
    _write(inbox, "a-matched.xml", build_nfe(x_ped="LV-2001"))
    _write(inbox, "b-unmatched.xml", build_nfe(number=2, recipient=BUYER_CNPJ))
    _write(inbox, "c-refused.XML", build_nfe(number=3, c_stat="110", x_motivo="Uso Denegado"))
    _write(inbox, "d-ml.xml", build_nfe(number=4, inf_cpl="Venda ML pedido 2000009999"))
    (inbox / "notes.txt").write_text("not an xml")
    result = run("invoices", "import", "nfes")
    assert result.exit_code == 3  # partial: some files were left
    lines = result.stderr.strip().splitlines()
    assert "a-matched.xml: attached to shop:LV-2001 (order is invoiced)" in lines
    assert "d-ml.xml: attached to ml-main:2000009999 (order is invoiced)" in lines
    assert any(
        line.startswith("warning: b-unmatched.xml: not attached: unmatched: no order has")
        for line in lines
    )
    assert any(
        "c-refused.XML: not attached: NF-e " in line and "cStat 110" in line for line in lines
    )
    assert lines[-1] == "4 file(s): 2 attached, 0 already attached, 2 left in nfes"
    assert sorted(p.name for p in inbox.iterdir())[:4] == [
        "a-matched.xml",
        "b-unmatched.xml",
        "c-refused.XML",
        "d-ml.xml",
    ]
    again = run("invoices", "import", "nfes")
    assert "2 already attached" in again.stderr.strip().splitlines()[-1]


def test_a_channel_cancellation_after_the_invoice_is_flagged(shop, run):
    _write(shop, "nfe.xml", build_nfe())
    run("invoices", "attach", "shop:LV-2001", "nfe.xml")
    cancelled = {**ORDER, "status": "cancelled", "updated_at": "2026-11-02T12:00:00-03:00"}
    (shop / "inbox" / "orders.json").write_text(json.dumps([cancelled]))
    assert run("pull-orders").exit_code == 0
    status = run("status", "--json").json()
    (flag,) = status["cancelled_after_invoice"]
    assert flag["order"] == "shop:LV-2001"
    # authorised 2026-11-02: the 24 h window is long past by the time this test runs
    assert flag["action"].startswith("issue a return NF-e (devolução)")
    shown = run("orders", "show", "shop:LV-2001")
    assert "warning: cancelled after its NF-e" in shown.stderr


def _refusals():
    spec = NfeSpec()
    return [
        ("not-nfe", "shop:LV-2001", b"<invoice/>", "not an NF-e: the root element is"),
        (
            "tampered-key",
            "shop:LV-2001",
            build_nfe(key_override=tampered_key(spec.key)),
            "check digit does not match",
        ),
        (
            "denied",
            "shop:LV-2001",
            build_nfe(c_stat="302", x_motivo="Uso Denegado"),
            "is not authorised: cStat 302",
        ),
        ("unsigned", "shop:LV-2001", build_nfe(signed=False), "no Signature element"),
        (
            "total",
            "shop:LV-2001",
            build_nfe(freight="5.00"),
            "vNF 25.00 differs from the order total 20.00 (--force attaches it anyway)",
        ),
        (
            "recipient",
            "shop:LV-2001",
            build_nfe(recipient=BUYER_CNPJ),
            "recipient CPF/CNPJ other than the order's buyer document",
        ),
        (
            "model",
            "ml-main:2000009999",
            build_nfe(model="65"),
            "Mercado Livre takes modelo 55 only",
        ),
        (
            "bare-without-protocol",
            "shop:LV-2001",
            build_nfe(processed=False),
            "give --protocol",
        ),
    ]


@pytest.mark.parametrize(
    ("name", "order", "xml", "message"), _refusals(), ids=[r[0] for r in _refusals()]
)
def test_refusals_are_one_line_exit_2_and_store_nothing(shop, run, name, order, xml, message):
    """requirement: each refusal is one line on stderr, exit 2, nothing stored, and the
    buyer's CPF never appears."""
    _write(shop, f"{name}.xml", xml)
    result = run("invoices", "attach", order, f"{name}.xml")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("erpsync: error: ")
    assert message in lines[0]
    assert BUYER_CPF not in result.stderr
    assert _count(shop) == 0
    assert run("orders", "show", order, "--json").json()["status"] == "paid"


#: one refusal of each kind (the file, its key, its protocol, the order) as a real process;
#: every refusal goes through the same error boundary in-process above
SUBPROCESS_REFUSALS = {"not-nfe", "tampered-key", "denied", "total"}


def test_refusals_as_a_real_process(shop):
    """requirement: no traceback, exit 2, one line, nothing stored; --force then attaches."""
    for name, order, xml, message in _refusals():
        if name not in SUBPROCESS_REFUSALS:
            continue
        _write(shop, f"{name}.xml", xml)
        result = erpsync("invoices", "attach", order, f"{name}.xml", cwd=shop)
        assert result.returncode == 2, (name, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("erpsync: error: "), (name, lines)
        assert message in lines[0], (name, lines[0])
        assert BUYER_CPF not in result.stderr and "Traceback" not in result.stderr
        assert _count(shop) == 0, name
    forced = erpsync("invoices", "attach", "shop:LV-2001", "total.xml", "--force", cwd=shop)
    assert forced.returncode == 0, forced.stderr
    assert _count(shop) == 1


def test_invoices_push_and_sync_send_each_invoice_once(shop, run):
    _write(shop, "nfe.xml", build_nfe())
    run("invoices", "attach", "shop:LV-2001", "nfe.xml")
    assert [e["order"] for e in run("invoices", "list", "--pending", "--json").json()] == [
        "shop:LV-2001"
    ]
    pushed = run("invoices", "push")
    assert pushed.exit_code == 0, pushed.stderr
    assert "shop: invoices 1 sent, 1 accepted, 0 pending, 0 refused, 0 failed" in pushed.stderr
    key = NfeSpec().key
    assert (shop / "outbox" / "invoices" / f"{key}-nfe.xml").read_bytes() == build_nfe()
    assert run("invoices", "list", "--json").json()[0]["pushed"] == {"shop": "accepted"}
    assert run("invoices", "list", "--pending", "--json").json() == []
    synced = run("sync")
    assert synced.exit_code == 0, synced.stderr
    assert "shop: invoices 0 sent" in synced.stderr
    assert run("status", "--json").json()["invoice_pushes"] == []


# -- a cart: several orders of one purchase, one NF-e, as a real process ----------------------

CART_ORDERS = [
    {**ORDER, "external_id": "LV-3001", "number": "3001", "cart": "C-3000"},
    {
        **ORDER,
        "external_id": "LV-3002",
        "number": "3002",
        "cart": "C-3000",
        "items_total": "30.00",
        "total": "30.00",
        "items": [{"sku": "SKU-B", "quantity": 1, "unit_price": "30.00"}],
    },
]


def _invoices_section(stdout):
    """The (access_key, total) rows of `orders show`'s invoices table (plain output)."""
    section = stdout.split("access_key\tnumber\tseries\tissued_at\ttotal\n", 1)
    if len(section) == 1:
        return []
    rows = (line.split("\t") for line in section[1].splitlines())
    return [(cells[0], cells[-1]) for cells in rows if len(cells) == 5]


def test_a_carts_nfe_shows_under_each_of_its_orders_and_a_cancelled_one_is_flagged(shop):
    """requirement (issue 8): a files order's `cart` makes two orders one purchase, end to end as
    a seller runs it: pull-orders, one NF-e at the cart's total (50.00, no --force) attached to
    one order invoices both, `orders show` on each order shows the cart's NF-e, and the channel
    cancelling the other order afterwards is flagged in `status` and in that order's `orders
    show` (a real process each step)."""
    (shop / "inbox" / "cart.json").write_text(json.dumps(CART_ORDERS))
    pulled = erpsync("pull-orders", cwd=shop)
    assert pulled.returncode == 0, pulled.stderr
    spec = NfeSpec(items=[("SKU-A", "Caneca", 2, "10.00"), ("SKU-B", "Camiseta", 1, "30.00")])
    _write(shop, "cart-nfe.xml", build_nfe(spec))

    attached = erpsync("invoices", "attach", "shop:LV-3001", "cart-nfe.xml", cwd=shop)

    assert attached.returncode == 0, attached.stderr
    assert "one NF-e for the whole cart: shop:LV-3002 invoiced by it too" in attached.stderr
    for order in ("shop:LV-3001", "shop:LV-3002"):
        shown = erpsync("orders", "show", order, cwd=shop)
        assert shown.returncode == 0, shown.stderr
        assert _invoices_section(shown.stdout) == [(spec.key, "50.00")], order
        assert "\nstatus\tinvoiced\n" in shown.stdout, order
        assert "warning" not in shown.stderr
    # the order bought alone is not part of the cart: no NF-e shows under it
    alone = erpsync("orders", "show", "shop:LV-2001", cwd=shop)
    assert _invoices_section(alone.stdout) == []

    cancelled = {**CART_ORDERS[1], "status": "cancelled", "updated_at": "2026-11-03T09:00:00Z"}
    (shop / "inbox" / "cart.json").write_text(json.dumps([CART_ORDERS[0], cancelled]))
    assert erpsync("pull-orders", cwd=shop).returncode == 0

    status = erpsync("status", "--json", cwd=shop)
    (flag,) = json.loads(status.stdout)["cancelled_after_invoice"]
    assert (flag["order"], flag["access_key"]) == ("shop:LV-3002", spec.key)
    # authorised 2026-11-02: the 24 h window is long past by the time this test runs
    assert flag["action"].startswith("issue a return NF-e (devolução)")
    assert flag["action"].endswith("(the NF-e covers the whole cart)")
    plain = erpsync("status", cwd=shop)
    assert f"shop:LV-3002\t{spec.key}\tissue a return NF-e" in plain.stdout, plain.stdout
    flagged = erpsync("orders", "show", "shop:LV-3002", cwd=shop)
    assert f"warning: cancelled after its NF-e {spec.key}: issue a return NF-e" in flagged.stderr
    assert _invoices_section(flagged.stdout) == [(spec.key, "50.00")]
    kept = erpsync("orders", "show", "shop:LV-3001", cwd=shop)
    assert "warning" not in kept.stderr


def test_import_attaches_a_carts_nfe_by_the_cart_number_to_its_orders(shop, run):
    """requirement: an NF-e XML that names a files order's `cart` (not an order's own number)
    is imported as `invoices attach` on one of the cart's orders does: at the cart's total it
    goes to the cart's first order and invoices every order of it."""
    (shop / "inbox" / "cart.json").write_text(json.dumps(CART_ORDERS))
    assert run("pull-orders").exit_code == 0
    inbox = shop / "nfes"
    inbox.mkdir()
    spec = NfeSpec(
        items=[("SKU-A", "Caneca", 2, "10.00"), ("SKU-B", "Camiseta", 1, "30.00")],
        compra_x_ped="C-3000",
    )
    _write(inbox, "cart.xml", build_nfe(spec))

    result = run("invoices", "import", "nfes")

    assert result.exit_code == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert "cart.xml: attached to shop:LV-3001 (order is invoiced)" in lines
    assert (
        "warning: cart.xml: one NF-e for the whole cart: shop:LV-3002 invoiced by it too" in lines
    )
    for order in ("shop:LV-3001", "shop:LV-3002"):
        shown = run("orders", "show", order, "--json").json()
        assert shown["status"] == "invoiced", order
    # the order bought alone keeps waiting for its own NF-e
    assert run("orders", "show", "shop:LV-2001", "--json").json()["status"] == "paid"
    assert "1 already attached" in run("invoices", "import", "nfes").stderr
