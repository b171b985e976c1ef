"""Attaching NF-e to orders: checks against the order, --force, idempotency, matching files."""

from decimal import Decimal

import pytest

from erpsync.engine import invoices as engine
from erpsync.engine.invoices import ALL_MODELS, models_for_type
from erpsync.errors import InvoiceRefusedError
from erpsync.postsale.domain import Shipment
from erpsync.postsale.nfe import parse_nfe
from erpsync.postsale.nfe_builder import BUYER_CNPJ, build_nfe
from erpsync.store import invoices, orders, shipments
from tests.postsale.conftest import make_order, save

ML = models_for_type("mercadolivre")


def _attach(store, ref="shop:2000001234", xml=None, **kwargs):
    kwargs.setdefault("models", ALL_MODELS)
    with store.session() as s:
        connector, _, external_id = ref.partition(":")
        row = orders.get_order(s, connector, external_id)
        return engine.attach(s, row, parse_nfe(xml or build_nfe()), **kwargs)


def _status(store, ref="shop:2000001234"):
    connector, _, external_id = ref.partition(":")
    with store.session() as s:
        return orders.get_order(s, connector, external_id).status


def test_attaching_stores_the_invoice_compressed_and_the_order_becomes_invoiced(store):
    save(store, make_order())
    xml = build_nfe(x_ped="2000001234")
    result = _attach(store, xml=xml)
    assert (result.order, result.status, result.already) == ("shop:2000001234", "invoiced", False)
    with store.session() as s:
        (row,) = invoices.invoices_of(s, orders.get_order(s, "shop", "2000001234").id)
        assert invoices.xml_of(row) == xml and len(row.xml_zlib) < len(xml)
        assert (row.source, row.forced, row.total) == ("manual", False, Decimal("20.00"))


def test_the_same_key_again_changes_nothing(store):
    save(store, make_order())
    _attach(store)
    again = _attach(store)
    assert again.already
    with store.session() as s:
        assert len(invoices.invoices_of(s, 1)) == 1


def test_a_key_attached_to_another_order_is_refused(store):
    save(store, make_order())
    save(store, make_order(external_id="2000009999", number="2000009999"))
    _attach(store)
    with pytest.raises(InvoiceRefusedError, match="already attached to shop:2000001234"):
        _attach(store, "shop:2000009999")


@pytest.mark.parametrize(
    ("order_changes", "xml_changes", "message"),
    [
        ({"total": "25.00"}, {}, "vNF 20.00 differs from the order total 25.00"),
        (
            {},
            {"recipient": BUYER_CNPJ},
            "has a recipient CPF/CNPJ other than the order's buyer document",
        ),
        ({}, {"recipient": None}, "names no recipient, the order has a buyer document"),
    ],
)
def test_total_and_recipient_mismatches_are_refused_unless_forced(
    store, order_changes, xml_changes, message
):
    save(store, make_order(**order_changes))
    xml = build_nfe(**xml_changes)
    with pytest.raises(InvoiceRefusedError) as raised:
        _attach(store, xml=xml)
    assert message in str(raised.value) and "--force" in str(raised.value)
    assert "529" not in str(raised.value)  # never the CPF
    with store.session() as s:
        assert invoices.invoices_of(s, 1) == []
    assert _status(store) == "paid"
    result = _attach(store, xml=xml, force=True)
    assert result.forced_checks and result.warnings[0].startswith("forced: ")
    with store.session() as s:
        (row,) = invoices.invoices_of(s, 1)
        assert row.forced and row.forced_checks == result.forced_checks


def test_mercado_livre_takes_modelo_55_only(store):
    save(store, make_order(connector="ml", platform="Mercado Livre"))
    with pytest.raises(InvoiceRefusedError, match=r"Mercado Livre takes modelo 55 only; .* 65"):
        _attach(store, "ml:2000001234", xml=build_nfe(model="65"), models=ML)
    assert _attach(store, "ml:2000001234", xml=build_nfe(), models=ML).status == "invoiced"


def test_a_channel_that_takes_nfce_accepts_modelo_65(store):
    save(store, make_order())
    assert _attach(store, xml=build_nfe(model="65")).status == "invoiced"


@pytest.mark.parametrize(
    ("status", "message"),
    [("cancelled", "is cancelled"), ("pending", "is not paid yet")],
)
def test_cancelled_and_unpaid_orders_take_no_invoice(store, status, message):
    save(store, make_order(status=status, channel_status=status))
    with pytest.raises(InvoiceRefusedError, match=message):
        _attach(store, force=True)


def test_a_shipped_order_keeps_its_status(store):
    save(store, make_order(status="shipped"))
    assert _attach(store).status == "shipped"


def test_an_order_with_several_deliveries_is_invoiced_in_parts(store):
    row = save(store, make_order(total="30.00", items_total="30.00"))
    with store.session() as s:
        shipments.sync_shipments(
            s, row.id, "shop", [Shipment(shipment_ref="D1"), Shipment(shipment_ref="D2")]
        )
    first = build_nfe(number=1, items=[("SKU-A", "Caneca", 2, "10.00")])
    second = build_nfe(number=2, items=[("SKU-B", "Copo", 1, "10.00")])
    third = build_nfe(number=3, items=[("SKU-B", "Copo", 1, "10.00")])
    _attach(store, xml=first)
    _attach(store, xml=second)
    with pytest.raises(InvoiceRefusedError, match="differs from the order total"):
        _attach(store, xml=third)
    with store.session() as s:
        linked = [i.shipment_id for i in invoices.invoices_of(s, row.id)]
        assert linked == [r.id for r in shipments.shipments_of(s, row.id)]


# --- matching --------------------------------------------------------------------------------


def _match(store, xml):
    with store.session() as s:
        order, how = engine.match_order(s, parse_nfe(xml).invoice)
        return (order.external_id if order else None), how


def test_match_by_the_order_number_in_xped_compra_or_infadic(store):
    save(store, make_order())
    save(store, make_order(external_id="77", number="LU-7777777", total="99.00"))
    assert _match(store, build_nfe(x_ped="2000001234")) == ("2000001234", "order number")
    assert _match(store, build_nfe(compra_x_ped="2000001234"))[0] == "2000001234"
    assert _match(store, build_nfe(inf_cpl="Pedido LU-7777777 entrega")) == (
        "77",
        "order number",
    )


def test_match_by_recipient_total_and_date_when_no_number_is_there(store):
    save(store, make_order())
    save(store, make_order(external_id="other", number="other", total="99.00"))
    assert _match(store, build_nfe()) == ("2000001234", "recipient, total and date")


def test_unmatched_and_ambiguous_say_why(store):
    save(store, make_order())
    save(store, make_order(external_id="2", number="2"))
    found, why = _match(store, build_nfe())
    assert found is None and "match several orders (shop:2, shop:2000001234)" in why
    found, why = _match(store, build_nfe(recipient=BUYER_CNPJ))
    assert found is None and why.startswith("no order has its order number")


# -- a cart: several orders of one sale (Mercado Livre's pack), one NF-e -----------------------

CART = "MERCADO LIVRE:2000005000000001"


def _cart(store, *, second_status="paid"):
    """Two orders of one cart (one sale_ref, one number), 20.00 each."""
    save(store, make_order(external_id="2000000001", number="2000005000000001", sale_ref=CART))
    save(
        store,
        make_order(
            external_id="2000000002",
            number="2000005000000001",
            sale_ref=CART,
            status=second_status,
        ),
    )


def test_a_carts_nfe_at_the_carts_total_attaches_to_one_order_and_invoices_them_all(store):
    """requirement: one NF-e covers the cart; attached to one of its orders, its vNF is the
    cart's total (no --force), and every order of the cart becomes invoiced."""
    _cart(store)
    xml = build_nfe(items=[("SKU-A", "Item", 4, "10.00")])
    result = _attach(store, "shop:2000000001", xml=xml)
    assert result.status == "invoiced" and not result.forced_checks
    assert result.warnings == ["one NF-e for the whole cart: shop:2000000002 invoiced by it too"]
    assert _status(store, "shop:2000000002") == "invoiced"
    with store.session() as s:
        assert invoices.invoices_of(s, orders.get_order(s, "shop", "2000000002").id) == []


def test_a_cancelled_order_is_not_part_of_the_carts_total(store):
    _cart(store, second_status="cancelled")
    with pytest.raises(InvoiceRefusedError, match=r"differs from the order total 20\.00"):
        _attach(store, "shop:2000000001", xml=build_nfe(items=[("SKU-A", "Item", 4, "10.00")]))
    assert _attach(store, "shop:2000000001").status == "invoiced"
    assert _status(store, "shop:2000000002") == "cancelled"


def test_a_cart_whose_other_order_has_its_own_nfe_takes_no_cart_nfe(store):
    _cart(store)
    _attach(store, "shop:2000000002", xml=build_nfe(number=77))
    with pytest.raises(InvoiceRefusedError, match=r"and from its cart's 40\.00 \(2 orders\)"):
        _attach(store, "shop:2000000001", xml=build_nfe(items=[("SKU-A", "Item", 4, "10.00")]))


def test_import_matches_a_carts_number_to_its_first_order(store):
    _cart(store)
    xml = build_nfe(items=[("SKU-A", "Item", 4, "10.00")], x_ped="2000005000000001")
    with store.session() as s:
        order, how = engine.match_order(s, parse_nfe(xml).invoice)
        assert (order.external_id, how) == ("2000000001", "order number (a cart of 2 orders)")


def test_a_carts_nfe_covers_each_of_its_orders_and_a_cancelled_one_is_flagged(store):
    """requirement (issue 8, cancellations after the invoice): the cart's NF-e, attached to one
    order, is the NF-e of every order of the cart (`orders show`, `invoices show`); when the
    channel cancels another order of the cart, `status` says what to do with that NF-e, as it
    does for an order's own."""
    from datetime import UTC, datetime, timedelta

    _cart(store)
    xml = build_nfe(items=[("SKU-A", "Item", 4, "10.00")])
    _attach(store, "shop:2000000001", xml=xml)
    key = parse_nfe(xml).invoice.access_key
    with store.session() as s:
        first = orders.get_order(s, "shop", "2000000001")
        second = orders.get_order(s, "shop", "2000000002")
        assert [i.access_key for i in engine.covering_invoices(s, second)] == [key]
        assert [i.access_key for i in engine.covering_invoices(s, first)] == [key]
        authorised = datetime(2026, 11, 2, 13, 0, 5, tzinfo=UTC)
        assert engine.cancelled_after_invoice(s, authorised + timedelta(hours=1)) == []
        second.status = "cancelled"
        s.add(second)
        s.flush()
        soon = engine.cancelled_after_invoice(s, authorised + timedelta(hours=3))
        late = engine.cancelled_after_invoice(s, authorised + timedelta(hours=25), second.id)
    assert soon == [
        {
            "order": "shop:2000000002",
            "access_key": key,
            "action": "cancel the NF-e (allowed until 2026-11-03T13:00+00:00) "
            "(the NF-e covers the whole cart)",
        }
    ]
    assert late[0]["action"].startswith("issue a return NF-e (devolução)")


def test_an_order_of_a_cart_invoiced_on_its_own_shows_only_its_own_nfe(store):
    _cart(store)
    _attach(store, "shop:2000000002", xml=build_nfe(number=77))
    with store.session() as s:
        first = orders.get_order(s, "shop", "2000000001")
        assert engine.covering_invoices(s, first) == []
