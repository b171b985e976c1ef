"""The Olist ERP emulator is an independent witness of the connector, and as strict as the
ERP where integrators got burnt."""

from __future__ import annotations

import httpx
import pytest

from erpsync.connectors.tiny.emulator import TinyEmulator
from erpsync.connectors.tiny.emulator.app import TOKEN_PATH
from erpsync.emulation import EmulatorTransport
from erpsync.testing import FakeTime


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def emulator(time: FakeTime) -> TinyEmulator:
    return TinyEmulator(seed=1, clock=time.now, sandbox_orders=0, reads_per_minute=5)


@pytest.fixture
def client(emulator: TinyEmulator) -> httpx.Client:
    return httpx.Client(transport=EmulatorTransport(emulator.app), base_url="http://tiny.test")


def token(client: httpx.Client, emulator: TinyEmulator, refresh: str) -> httpx.Response:
    credentials = emulator.credentials()
    return client.post(
        TOKEN_PATH,
        data={
            "grant_type": "refresh_token",
            "client_id": credentials["client_id"],
            "client_secret": credentials["client_secret"],
            "refresh_token": refresh,
        },
    )


def bearer(client: httpx.Client, emulator: TinyEmulator) -> dict[str, str]:
    answer = token(client, emulator, emulator.bootstrap_refresh_token).json()
    return {"Authorization": f"Bearer {answer['access_token']}"}


def test_refresh_tokens_rotate_and_work_once(client, emulator):
    """requirement: every refresh answers a new refresh token; a used one is invalid_grant."""
    first = token(client, emulator, emulator.bootstrap_refresh_token)
    assert first.status_code == 200
    rotated = first.json()["refresh_token"]
    assert token(client, emulator, emulator.bootstrap_refresh_token).json()["error"] == (
        "invalid_grant"
    )
    assert token(client, emulator, rotated).status_code == 200
    assert token(client, emulator, rotated).status_code == 400


def test_situacao_must_be_an_integer_and_an_invoiced_order_is_not_cancelled(client, emulator):
    """requirement: `situacao` is an integer enum; cancelling an order with an issued NF-e is
    refused (400), not done."""
    headers = bearer(client, emulator)
    order_id = emulator.erp_add_order("MLB-1", "CAM-P", 1)
    path = f"/pedidos/{order_id}/situacao"
    assert client.put(path, json={"situacao": "2"}, headers=headers).status_code == 400
    emulator.erp_invoice_order(order_id)
    refused = client.put(path, json={"situacao": 2}, headers=headers)
    assert refused.status_code == 400 and "nota fiscal" in refused.json()["mensagem"]
    assert not emulator.erp_order_cancelled(order_id)


def test_orders_reserve_stock_and_the_invoice_makes_the_baixa(emulator):
    """requirement: reservado grows as orders are created; invoicing moves it out of saldo."""
    before = emulator.erp_available("CANECA")
    kit_before = emulator.erp_available("KIT-CAFE")
    order_id = emulator.erp_add_order("MLB-2", "KIT-CAFE", 2)  # 4 canecas
    assert emulator.erp_available("CANECA") == before - 4
    assert emulator.erp_available("KIT-CAFE") == kit_before - 2
    emulator.erp_invoice_order(order_id)
    assert emulator.erp_available("CANECA") == before - 4


def test_the_per_minute_budget_answers_429_with_its_headers(client, emulator, time):
    """requirement: every answer says the budget left; over it, 429 until the minute ends."""
    headers = bearer(client, emulator)
    answers = [client.get("/produtos", headers=headers) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[0].headers["X-RateLimit-Limit"] == "5"
    assert answers[4].headers["X-RateLimit-Remaining"] == "0"
    time.advance(seconds=int(answers[5].headers["X-RateLimit-Reset"]))
    assert client.get("/produtos", headers=headers).status_code == 200


def test_product_and_order_searches_match_by_prefix(client, emulator):
    """requirement: like the ERP's, the searches match more than the exact code asked for."""
    headers = bearer(client, emulator)
    found = client.get("/produtos", params={"codigo": "CAM-P"}, headers=headers).json()
    skus = {item["sku"] for item in found["itens"]}
    assert {"CAM-P", "CAM-P-10", "CAM-PRETO-P"} <= skus  # the sandbox sells CAM-PRETO-P too
    assert all(sku.startswith("CAM-P") for sku in skus)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tipoPessoa": "F"}, "nome"),
        ({"nome": "Ana", "tipoPessoa": "PF"}, "tipoPessoa"),
        ({"nome": "Ana", "situacao": "Ativo"}, "situacao"),
        ({"nome": "Ana", "tipoPessoa": "J", "cpfCnpj": "52998224725"}, "cpfCnpj"),
        ({"nome": "Ana", "endereco": {"logradouro": "Rua A"}}, "endereco"),
    ],
)
def test_a_contact_is_checked_as_criar_contato_model_request(client, emulator, body, field):
    """requirement: `POST /contatos` wants a name, the schema's enums (tipoPessoa J/F/E/X,
    situacao B/A/I/E), a CPF for F and a CNPJ for J, and an EnderecoModel address."""
    before = len(emulator.contacts)
    answer = client.post("/contatos", json=body, headers=bearer(client, emulator))
    assert answer.status_code == 400
    assert [d["campo"] for d in answer.json()["detalhes"]] == [field]
    assert len(emulator.contacts) == before


def test_a_contact_keeps_only_the_schema_s_fields(client, emulator):
    """requirement: a field CriarContatoModelRequest does not have (a misnamed one) is
    dropped, as the ERP drops it: the contact is created without it."""
    body = {"nome": "Ana", "tipoPessoa": "F", "cpfCnpj": "52998224725", "fone": "1199"}
    answer = client.post("/contatos", json=body, headers=bearer(client, emulator))
    assert answer.status_code == 200
    stored = emulator.contacts[answer.json()["id"]]
    assert "fone" not in stored and stored["cpfCnpj"] == "52998224725"


def test_the_notas_listing_takes_days_and_refuses_other_dates(client, emulator):
    """requirement: `GET /notas` filters by the creation day in the document's "2023-01-01"
    form; a time, another format or a tipo outside E/S is a 400 naming the field."""
    headers = bearer(client, emulator)
    ok = client.get("/notas", params={"tipo": "S", "dataInicial": "2026-11-02"}, headers=headers)
    assert ok.status_code == 200
    assert ok.json()["paginacao"] == {"limit": 100, "offset": 0, "total": 0}
    for bad in ("2026-11-02 10:00:00", "02/11/2026", "2026-13-01"):
        refused = client.get("/notas", params={"dataInicial": bad}, headers=headers)
        assert refused.status_code == 400
        assert refused.json()["detalhes"][0]["campo"] == "dataInicial"
    refused = client.get("/notas", params={"tipo": "X"}, headers=headers)
    assert refused.status_code == 400 and refused.json()["detalhes"][0]["campo"] == "tipo"
