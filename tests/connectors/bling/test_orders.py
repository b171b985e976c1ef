"""Channel orders into Bling: contato by CPF/CNPJ, items by product id resolved from the exact
SKU, numeroLoja with the loja, lookup before a lost create is retried, cancellation through the
account's own situação ids."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from erpsync.connector import ErpOrderRef
from erpsync.connectors.bling import BlingConnector
from erpsync.connectors.bling.settings import BlingOptions
from erpsync.errors import RetriableError
from erpsync.testing import build_harness

from .conftest import CPF, make_order


def created(harness, order):
    result = harness.connector.create_order(order)
    assert result.ok, result.error
    return result.remote_id


def test_an_order_is_created_with_its_channel_number_loja_contact_and_product_ids(harness):
    """requirement: numeroLoja = the channel number, loja id, contato found/created by CPF,
    items by the product id of exactly their SKU (CANECA-01, not CANECA-010)."""
    emulator = harness.emulator
    order = make_order(items=(("CAM-AZ", 2, "59.90"), ("CANECA-01", 1, "29.90")))
    remote = created(harness, order)
    pedido = emulator.pedidos[int(remote)]
    assert pedido["numeroLoja"] == "2000001"
    assert pedido["loja"]["id"] == harness.connector.options.loja_id
    assert pedido["data"] == "2026-11-01"  # 01:30 UTC is still the 1st in Brasília
    codes = {p["id"]: p["codigo"] for p in emulator.products}
    assert [(codes[i["produto"]["id"]], i["quantidade"], i["valor"]) for i in pedido["itens"]] == [
        ("CAM-AZ", 2, 59.9),
        ("CANECA-01", 1, 29.9),
    ]
    assert pedido["transporte"]["frete"] == 15.0
    assert pedido["desconto"] == {"valor": 5.0, "unidade": "REAL"}
    contato = emulator.contatos[pedido["contato"]["id"]]
    assert (contato["numeroDocumento"], contato["tipo"]) == (CPF, "F")
    assert contato["nome"] == "Maria Souza"


def test_a_returning_buyer_is_found_by_document_not_created_again(harness):
    """requirement: the contato is looked up by numeroDocumento first."""
    created(harness, make_order("1"))
    harness.connector.contacts.clear()  # a new run: nothing cached
    created(harness, make_order("2"))
    assert len(harness.emulator.contatos) == 1


def test_product_ids_are_cached_for_the_run(harness):
    """requirement: a SKU is resolved once, not once per order."""
    created(harness, make_order("1"))
    created(harness, make_order("2"))
    assert len(harness.emulator.requests_to("/produtos")) == 1


def test_an_unknown_sku_is_a_per_order_error_worth_retrying(harness):
    """requirement: a SKU that is no product in Bling fails that order only, clearly, and
    nothing is created (the seller may register the product and run again)."""
    result = harness.connector.create_order(make_order(items=(("CAM", 1, "10.00"),)))
    assert (result.ok, result.retry) == (False, True)
    assert result.error == "SKU CAM is not a product in Bling"
    assert harness.emulator.pedidos == {}


def test_a_buyer_without_document_gets_a_contact_without_one(harness):
    """requirement: a channel that withholds the buyer's CPF still gets its order in."""
    remote = created(harness, make_order(document=None))
    contato = harness.emulator.contatos[harness.emulator.pedidos[int(remote)]["contato"]["id"]]
    assert (contato["nome"], contato["numeroDocumento"]) == ("Maria Souza", "")


def test_a_lost_answer_is_raised_and_the_order_is_then_found_not_duplicated(harness):
    """requirement: Bling stored the order but its answer was lost: create_order raises
    RetriableError (the POST is not retried blindly) and find_order finds the stored one."""
    emulator = harness.emulator
    order = make_order("777")
    emulator.faults.add("lost_answer", path=emulator.order_create_path, method="POST")
    with pytest.raises(RetriableError):
        harness.connector.create_order(order)
    assert len(emulator.erp_orders_numbered("777")) == 1
    assert harness.connector.find_order(order) == emulator.erp_orders_numbered("777")[0]
    assert len(emulator.requests_to("/pedidos/vendas", "POST")) == 1


def test_a_lost_create_after_21h_local_is_found_by_number_with_no_day_to_misread(harness, time):
    """requirement: the look-up of a lost create names no day. The sale is at 22:30 in São
    Paulo (01:30 UTC, the next day there) and the create after midnight local: a search by date
    could miss it on one reading of Bling's days (its v3 document gives `dataInicial` as a bare
    date), so it is by `numerosLojas[]` (with `idLoja`) alone, and finds the stored order."""
    emulator = harness.emulator
    order = make_order("888")
    time.set(datetime(2026, 11, 2, 3, 40, tzinfo=UTC))  # 00:40 on the 2nd in São Paulo
    emulator.faults.add("lost_answer", path=emulator.order_create_path, method="POST")
    with pytest.raises(RetriableError):
        harness.connector.create_order(order)
    searches = len(emulator.requests_to("/pedidos/vendas", "GET"))
    assert harness.connector.find_order(order) == emulator.erp_orders_numbered("888")[0]
    (look_up,) = emulator.requests_to("/pedidos/vendas", "GET")[searches:]
    assert look_up.params["numerosLojas[]"] == "888"
    assert not {k for k in look_up.params if k.startswith("data")}


def test_find_order_matches_the_exact_number_in_the_loja(harness):
    """requirement: another number, or the same number in another loja, is not this order."""
    created(harness, make_order("123"))
    assert harness.connector.find_order(make_order("12")) is None
    assert harness.connector.find_order(make_order("123")) is not None
    hub = harness.emulator.erp_add_order("555", "CAM-PR", 1)  # the hub's loja, not ours
    assert hub
    assert harness.connector.find_order(make_order("555")) is None


def test_a_429_on_the_create_is_retried_because_nothing_was_stored(harness):
    emulator = harness.emulator
    harness.connector.check()
    emulator.faults.add("rate_limit", path=emulator.order_create_path, method="POST")
    assert harness.connector.create_order(make_order("9")).ok
    assert len(emulator.erp_orders_numbered("9")) == 1


def test_a_validation_error_is_one_line_with_bling_s_fields(harness):
    """requirement: Bling's error body ({error: {type, description, fields}}) becomes the
    order's one-line error."""
    harness.connector.check()
    order = make_order(items=(("CAM-AZ", 1, "10.00"),))
    base = harness.connector.settings
    options = base.options.model_copy(update={"forma_pagamento_id": 999})  # not Bling's
    harness.connector.settings = dataclasses.replace(base, options=options)
    result = harness.connector.create_order(order)
    assert not result.ok and not result.retry
    assert result.error == (
        "bling POST /pedidos/vendas: HTTP 400 VALIDATION_ERROR: Não foi possível salvar a "
        "venda (parcelas[0].formaPagamento: Forma de pagamento inválida)"
    )


def test_a_product_id_bling_no_longer_has_is_searched_again(harness):
    """requirement: an id remembered from an earlier run that Bling refuses ("Produto não
    encontrado": the product was deleted or re-created) is dropped, the SKU searched again
    and the order created with the id Bling has now; nothing is created twice."""
    harness.connector.product_ids.put("CAM-AZ", 999)  # a product Bling no longer has
    remote = created(harness, make_order("41", items=(("CAM-AZ", 1, "10.00"),)))
    current = harness.emulator._product_by_code("CAM-AZ")["id"]
    assert harness.emulator.pedidos[int(remote)]["itens"][0]["produto"]["id"] == current
    assert harness.connector.product_ids.get("CAM-AZ") == str(current)
    assert len(harness.emulator.pedidos) == 1


def test_cancel_uses_the_account_s_own_situacao_id(harness):
    """requirement: situação ids differ per account: Cancelado is looked up by name."""
    order = make_order("31")
    remote = created(harness, order)
    ref = ErpOrderRef("ml-main", "31", "31", remote)
    assert harness.connector.cancel_order(ref).ok
    assert harness.emulator.erp_order_cancelled(remote)
    cancelled = harness.emulator.situacao_id("Cancelado")
    assert cancelled != 12  # not the usual default: a hard-coded id would be refused
    (patch,) = harness.emulator.requests_to("/pedidos/vendas", "PATCH")
    assert patch.path.endswith(f"/situacoes/{cancelled}")
    assert harness.connector.cancel_order(ref).ok  # already cancelled: nothing sent
    assert len(harness.emulator.requests_to("/pedidos/vendas", "PATCH")) == 1


def test_an_invoiced_order_is_not_cancelled_and_says_why(harness):
    """requirement: a move Bling refuses is reported, not forced."""
    remote = created(harness, make_order("32"))
    harness.emulator.erp_invoice_order(remote)
    result = harness.connector.cancel_order(ErpOrderRef("ml-main", "32", "32", remote))
    assert not result.ok
    assert "nota fiscal autorizada" in (result.error or "")
    assert not harness.emulator.erp_order_cancelled(remote)


ML = {"cnpj": "03.007.331/0001-41", "nome_usuario": "LOJA_EXEMPLO"}


def marketplace_harness(emulator, time):
    return build_harness(
        BlingConnector, emulator, time, name="bling", options={"intermediadores": {"ml-main": ML}}
    )


def test_a_marketplace_sale_names_its_intermediador_for_the_nfe(emulator, time):
    """requirement: an order of a channel configured with its marketplace carries
    `intermediador{cnpj, nomeUsuario}` (the NF-e of a marketplace sale must name it); an order
    of a channel without one (the seller's own store) carries none."""
    h = marketplace_harness(emulator, time)
    try:
        sold = created(h, make_order("51"))
        own = created(h, make_order("52", connector="loja-propria"))
    finally:
        h.connector.close()
        h.store.close()
    (first, second) = [r.json() for r in emulator.requests_to("/pedidos/vendas", "POST")]
    assert first["intermediador"] == {"cnpj": "03007331000141", "nomeUsuario": "LOJA_EXEMPLO"}
    assert "intermediador" not in second
    assert emulator.pedidos[int(sold)]["intermediador"]["cnpj"] == "03007331000141"
    assert own


def test_an_intermediador_with_an_invalid_cnpj_is_a_config_error():
    """requirement: a mistyped marketplace CNPJ is refused when the config is read, not by
    Bling on every order."""
    with pytest.raises(ValueError, match="invalid CNPJ"):
        BlingOptions(
            intermediadores={"ml-main": {"cnpj": "03.007.331/0001-40", "nome_usuario": "X"}}
        )
