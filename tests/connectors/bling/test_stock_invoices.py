"""Stock out of Bling (`/estoques/saldos` by product id, per depósito, reservations deducted)
and authorised NF-e (order -> notaFiscal.id -> /nfe/{id} -> its XML)."""

from __future__ import annotations

from decimal import Decimal

from erpsync.connector import ErpOrderRef

from .conftest import make_order


def levels_of(harness, skus):
    return [level for batch in harness.connector.fetch_stock(skus) for level in batch]


def test_stock_is_the_available_balance_per_sku_and_per_deposito(harness):
    """requirement: "main" is the account's saldo virtual total; each depósito has its own
    level; a SKU Bling does not know is left out."""
    emulator = harness.emulator
    found = levels_of(harness, ["CAM-AZ", "CANECA-01", "NOPE"])
    mains = {lv.sku: lv for lv in found if lv.location == "main"}
    assert set(mains) == {"CAM-AZ", "CANECA-01"}
    assert mains["CAM-AZ"].available == emulator.erp_available("CAM-AZ")
    deposits = {str(d["id"]) for d in emulator.depositos}
    assert {lv.location for lv in found if lv.sku == "CAM-AZ"} == {"main", *deposits}
    product = {p["codigo"]: p["id"] for p in emulator.products}
    assert mains["CANECA-01"].product_id == str(product["CANECA-01"])  # not CANECA-010's


def test_orders_created_in_bling_reserve_stock(harness):
    """requirement: an order reserves its quantity (saldo virtual drops, saldo físico stays);
    cancelling it releases the reservation."""
    before = next(lv for lv in levels_of(harness, ["CAM-AZ"]) if lv.location == "main")
    result = harness.connector.create_order(make_order("41", items=(("CAM-AZ", 3, "59.90"),)))
    after = next(lv for lv in levels_of(harness, ["CAM-AZ"]) if lv.location == "main")
    assert (after.available, after.on_hand, after.reserved) == (
        before.available - 3,
        before.on_hand,
        3,
    )
    harness.connector.cancel_order(ErpOrderRef("ml-main", "41", "41", result.remote_id))
    again = next(lv for lv in levels_of(harness, ["CAM-AZ"]) if lv.location == "main")
    assert again.available == before.available


def test_stock_asks_in_batches_by_product_id(harness, monkeypatch):
    """requirement: several SKUs per call (`idsProdutos[]`), product ids resolved once."""
    monkeypatch.setattr(type(harness.connector), "stock_batch_size", 4)
    skus = harness.emulator.erp_skus()[:10]
    levels_of(harness, skus)
    levels_of(harness, skus)
    calls = harness.emulator.requests_to("/estoques/saldos")
    assert len(calls) == 6  # 10 SKUs in batches of 4, twice
    assert len(calls[0].query["idsProdutos[]"]) == 4
    assert len(harness.emulator.requests_to("/produtos")) == 3  # only the first time


def test_stock_batches_come_back_in_the_order_asked_with_the_same_requests(harness, monkeypatch):
    """requirement: the batches are read together (the shared fan-out), yet each comes back
    as its own batch, in the SKUs' order, for one product lookup and one balance call each."""
    monkeypatch.setattr(type(harness.connector), "stock_batch_size", 3)
    skus = harness.emulator.erp_skus()[:8]
    batches = list(harness.connector.fetch_stock(skus))
    mains = [[lv.sku for lv in batch if lv.location == "main"] for batch in batches]
    assert mains == [skus[0:3], skus[3:6], skus[6:8]]
    assert len(harness.emulator.requests_to("/produtos")) == 3
    assert len(harness.emulator.requests_to("/estoques/saldos")) == 3


def test_the_authorised_nfe_of_an_order_comes_with_its_xml(harness):
    """requirement: order -> notaFiscal.id -> /nfe/{id} (situação 5) -> the XML, parsed, as
    an Invoice of the channel order; an order without an NF-e yields nothing."""
    result = harness.connector.create_order(make_order("51"))
    waiting = harness.connector.create_order(make_order("52"))
    ref = ErpOrderRef("ml-main", "51", "51", result.remote_id)
    other = ErpOrderRef("ml-main", "52", "52", waiting.remote_id)
    key = harness.emulator.erp_invoice_order(result.remote_id)
    found = [i for batch in harness.connector.fetch_invoices([ref, other]) for i in batch]
    assert len(found) == 1
    invoice = found[0]
    assert invoice.access_key == key
    assert (invoice.connector, invoice.order_external_id) == ("ml-main", "51")
    assert invoice.xml is not None and key.encode() in invoice.xml
    assert invoice.total == Decimal(str(harness.emulator.pedidos[int(result.remote_id)]["total"]))


def test_an_nfe_not_yet_authorised_is_left_for_the_next_run(harness):
    """requirement: only situação 5, 6 or 7: a pending or rejected NF-e is not an invoice."""
    result = harness.connector.create_order(make_order("61"))
    harness.emulator.erp_invoice_order(result.remote_id)
    nfe_id = harness.emulator.pedidos[int(result.remote_id)]["notaFiscal"]["id"]
    harness.emulator.nfes[nfe_id]["situacao"] = 4  # Rejeitada
    ref = ErpOrderRef("ml-main", "61", "61", result.remote_id)
    assert list(harness.connector.fetch_invoices([ref])) == []


def test_an_order_gone_from_bling_is_reported_and_skipped(harness, caplog):
    """requirement: an order deleted in Bling yields no invoice and says so, the others go on."""
    result = harness.connector.create_order(make_order("71"))
    harness.emulator.erp_invoice_order(result.remote_id)
    gone = ErpOrderRef("ml-main", "72", "72", "22999999999")
    ref = ErpOrderRef("ml-main", "71", "71", result.remote_id)
    found = [i for batch in harness.connector.fetch_invoices([gone, ref]) for i in batch]
    assert [i.order_external_id for i in found] == ["71"]
    assert "Bling order 22999999999 not found; no invoice read" in caplog.text
