"""Mercado Livre on the shapes of its own documentation examples (fixtures/docs/, own values).

Sources of the shapes: the /orders/search example of pt_br/gerenciamento-de-vendas (both
`date_last_updated` and `last_updated`, differing), the MLB examples and the
`identification.type` list of pt-br/faturamento (RG; the state by name only; an 8-digit "CPF"),
and the x-format-new template of pt_br/gerenciamento-de-envios (destination masked with
"XXXXXXX" until the order is paid).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from erpsync.connector import ConnectorContext, ConnectorSettings, NothingSeen, Window
from erpsync.connectors.mercadolivre import MercadoLivreConnector, orders
from erpsync.connectors.mercadolivre.settings import MercadoLivreCredentials, MercadoLivreOptions
from erpsync.domain import Address, OrderStatus
from erpsync.http.auth import MemoryTokenStore
from erpsync.http.retry import RetryPolicy

DOCS = Path(__file__).resolve().parents[3] / "connectors" / "mercadolivre" / "fixtures" / "docs"
RG_ORDER, UNPAID_ORDER = 2000012000000301, 2000012000000302


def load(name: str) -> Any:
    return json.loads((DOCS / name).read_text(encoding="utf-8"))


def mapped(order_id: int) -> Any:
    return orders.order_from_payload(load(f"order-{order_id}.json"), connector="ml")


def test_the_order_version_is_the_newer_of_the_two_update_fields() -> None:
    """requirement: `date_last_updated` (what the search filters on) and `last_updated` differ
    in the documented example; the order's version is the newer of the two."""
    order = mapped(RG_ORDER)
    assert order.updated_at == datetime(2026, 10, 28, 5, 55, 49, 811000, tzinfo=UTC)
    flipped = load(f"order-{RG_ORDER}.json")
    flipped["order"]["last_updated"] = "2026-10-29T10:00:00.000-03:00"
    assert orders.order_version(flipped["order"]) == datetime(2026, 10, 29, 13, 0, tzinfo=UTC)
    assert orders.order_from_payload(flipped, connector="ml").updated_at == datetime(
        2026, 10, 29, 13, 0, tzinfo=UTC
    )


def test_an_rg_buyer_maps_with_the_document_kept_raw_and_a_note() -> None:
    """requirement: RG is a documented MLB identification type: never a reason to quarantine;
    the order maps (stock moves), the RG is kept with its type, the note names no number."""
    order = mapped(RG_ORDER)
    assert order.status is OrderStatus.DELIVERED
    assert order.buyer.document is None
    assert order.buyer.name == "Marina Lopes Teixeira"
    assert order.extra["buyer_document"] == {"type": "RG", "number": "12.345.678-9"}
    assert order.notes == (
        "buyer document left empty: a RG is not a CPF or CNPJ; kept as given in "
        "extra.buyer_document",
    )
    assert all("12.345.678" not in note for note in order.notes)


def test_a_cpf_typed_number_that_is_no_cpf_is_left_empty_with_a_masked_note() -> None:
    """requirement: the documented MLB example's 8-digit "CPF" does not quarantine the order."""
    order = mapped(UNPAID_ORDER)
    assert order.buyer.document is None
    assert order.extra["buyer_document"] == {"type": "CPF", "number": "32659431"}
    (note,) = [n for n in order.notes if n.startswith("buyer document")]
    assert note.startswith("buyer document left empty: invalid CPF ******31")
    assert "32659431" not in note


@pytest.mark.parametrize(
    ("state", "uf"),
    [
        ({"name": "Rio de Janeiro"}, "RJ"),
        ({"name": "São Paulo"}, "SP"),
        ({"name": "Sao Paulo"}, "SP"),
        ({"name": "ESPÍRITO SANTO"}, "ES"),
        ({"name": "  rio grande do  norte "}, "RN"),
        ({"code": "BA", "name": "Bahia"}, "BA"),
        ({"name": "Buenos Aires"}, None),  # not a Brazilian state: empty, with a note
    ],
)
def test_the_billing_address_state_given_by_name_becomes_its_uf(
    state: dict[str, str], uf: str | None
) -> None:
    """requirement: the documented MLB billing address has only state.name; it maps to the UF."""
    payload = load(f"order-{RG_ORDER}.json")
    payload["shipment"] = None  # the billing address is the fallback
    payload["billing_info"]["buyer"]["billing_info"]["address"]["state"] = state
    order = orders.order_from_payload(payload, connector="ml")
    assert order.shipping_address.state == uf
    assert order.shipping_address.zip == "28660000"
    assert any("state" in note for note in order.notes) is (uf is None)


def test_a_masked_destination_before_payment_is_absent_with_a_note() -> None:
    """requirement: "XXXXXXX" (shipments template; hidden until payment) is not a CEP: the
    unpaid order maps as pending (its reservation is made), the masked fields empty."""
    order = mapped(UNPAID_ORDER)
    assert order.status is OrderStatus.PENDING
    assert order.shipping_address == Address(
        district="Jardim Ornelas", city="Bom Jardim", state="RJ", country="BR"
    )
    assert orders.MASKED_ADDRESS in order.notes


def test_the_paid_order_read_again_fills_the_address() -> None:
    """requirement: once paid, ML shows the destination; the same order maps with it."""
    payload = load(f"order-{UNPAID_ORDER}.json")
    payload["shipment"]["destination"]["shipping_address"] = load(f"order-{RG_ORDER}.json")[
        "shipment"
    ]["destination"]["shipping_address"]
    payload["order"]["status"] = "paid"
    order = orders.order_from_payload(payload, connector="ml")
    assert order.shipping_address == Address(
        street="Rua Nicolau de Marcos",
        number="17",
        complement="casa 2",
        district="Jardim Ornelas",
        city="Bom Jardim",
        state="RJ",
        zip="28660000",
    )
    assert orders.MASKED_ADDRESS not in order.notes


@pytest.mark.parametrize(
    ("field", "value", "note"),
    [
        ("zip_code", "2866-00", "shipping address: CEP '2866-00' is not 8 digits; left empty"),
        ("state", {"id": "AR-B", "name": "Buenos Aires"}, "is not a Brazilian state"),
    ],
)
def test_a_bad_cep_or_state_is_an_empty_field_and_a_note_not_a_quarantine(
    field: str, value: Any, note: str
) -> None:
    """requirement: only id, lines and quantities may quarantine an order."""
    payload = load(f"order-{RG_ORDER}.json")
    payload["shipment"]["destination"]["shipping_address"][field] = value
    order = orders.order_from_payload(payload, connector="ml")
    assert any(note in n for n in order.notes)
    assert order.items[0].quantity == 1


def test_a_documented_search_result_is_fetched_though_last_updated_is_outside_the_window() -> None:
    """requirement: the search filters on date_last_updated; the documented result has
    last_updated a week earlier. Whatever the search returns is read (detail calls made),
    with the newer field as its version; before, it was dropped without a word."""
    search = load("orders-search.json")
    details = {
        "/shipments/44100000301": load(f"order-{RG_ORDER}.json")["shipment"],
        "/orders/billing-info/MLB/690000000000000301": load(f"order-{RG_ORDER}.json")[
            "billing_info"
        ],
    }
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/oauth/token":
            return httpx.Response(
                200,
                json={
                    "access_token": "APP_USR-x",
                    "token_type": "bearer",
                    "expires_in": 21600,
                    "refresh_token": "TG-next",
                    "user_id": 241910555,
                },
            )
        if request.url.path == "/orders/search":
            status = request.url.params.get("order.status")
            empty = {**search, "paging": {"total": 0, "offset": 0, "limit": 50}, "results": []}
            return httpx.Response(200, json=search if status is None else empty)
        return httpx.Response(200, json=details[request.url.path])

    settings = ConnectorSettings(
        name="ml",
        type="mercadolivre",
        credentials=MercadoLivreCredentials(
            client_id="app", client_secret="secret", refresh_token="TG-first"
        ),
        options=MercadoLivreOptions(seller_id=241910555),
        base_url="http://ml.test",
    )
    context = ConnectorContext(
        token_store=MemoryTokenStore(),
        transport=httpx.MockTransport(handler),
        retry_policy=RetryPolicy.instant(),
    )
    window = Window(
        datetime(2026, 10, 28, 3, 0, tzinfo=UTC), datetime(2026, 10, 28, 12, 0, tzinfo=UTC)
    )
    connector = MercadoLivreConnector(settings, context)
    try:
        pages = connector.fetch_orders(window, NothingSeen())
        raws = [raw for page in pages for raw in page.orders]
        mapped_version = connector.map_order(raws[0].payload).updated_at if raws else None
    finally:
        connector.close()
    assert [raw.external_id for raw in raws] == [str(RG_ORDER)]
    assert raws[0].updated_at == datetime(2026, 10, 28, 5, 55, 49, 811000, tzinfo=UTC)
    assert mapped_version == raws[0].updated_at
    assert "/shipments/44100000301" in seen
