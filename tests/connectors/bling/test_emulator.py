"""The Bling emulator is an independent witness: it imports nothing from the connector and
refuses what Bling refuses, whoever the client."""

from __future__ import annotations

import base64

import httpx
import pytest

from erpsync.connectors.bling.emulator import BlingEmulator
from erpsync.connectors.bling.emulator.app import BOOTSTRAP_REFRESH, CLIENT_ID, CLIENT_SECRET
from erpsync.emulation import EmulatorTransport

BASIC = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()


@pytest.fixture
def client(time):
    emulator = BlingEmulator(seed=7, clock=time.now)
    transport = EmulatorTransport(emulator.app)
    with httpx.Client(transport=transport, base_url="https://api.bling.com.br") as http:
        http.emulator = emulator  # type: ignore[attr-defined]
        yield http
    transport.close()


def token(client, grant: dict[str, str], auth: str | None = BASIC) -> httpx.Response:
    headers = {"Authorization": auth} if auth else {}
    return client.post("/Api/v3/oauth/token", data=grant, headers=headers)


def refresh(client, value: str, auth: str | None = BASIC) -> httpx.Response:
    return token(client, {"grant_type": "refresh_token", "refresh_token": value}, auth)


def test_the_token_endpoint_wants_basic_client_auth(client):
    """requirement: credentials in the body instead of HTTP Basic are refused."""
    grant = {
        "grant_type": "refresh_token",
        "refresh_token": BOOTSTRAP_REFRESH,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    answer = token(client, grant, auth=None)
    assert answer.status_code == 401
    assert answer.json()["error"]["type"] == "invalid_client"


def test_a_refresh_token_works_once(client):
    """requirement: every refresh rotates the refresh token; the used one is refused."""
    first = refresh(client, BOOTSTRAP_REFRESH)
    assert first.status_code == 200
    body = first.json()
    assert body["expires_in"] == 21600 and body["token_type"] == "Bearer"
    assert refresh(client, BOOTSTRAP_REFRESH).json()["error"]["type"] == "invalid_grant"
    assert refresh(client, body["refresh_token"]).status_code == 200
    assert refresh(client, body["refresh_token"]).status_code == 400


def test_calls_need_a_valid_bearer_token(client):
    assert client.get("/Api/v3/situacoes/modulos").status_code == 401
    access = refresh(client, BOOTSTRAP_REFRESH).json()["access_token"]
    headers = {"Authorization": f"Bearer {access}"}
    assert client.get("/Api/v3/situacoes/modulos", headers=headers).status_code == 200
    client.emulator.expire_access_tokens()
    answer = client.get("/Api/v3/situacoes/modulos", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"]["type"] == "invalid_token"


def test_situacao_ids_are_the_account_s_own(client, time):
    """requirement: a client that hard-codes the usual default ids (12 Cancelado) is refused."""
    emulator = client.emulator
    access = refresh(client, BOOTSTRAP_REFRESH).json()["access_token"]
    headers = {"Authorization": f"Bearer {access}"}
    number = emulator.erp_add_order("X1", "CAM-AZ", 1)
    time.advance(seconds=1)
    answer = client.patch(f"/Api/v3/pedidos/vendas/{number}/situacoes/12", headers=headers)
    assert answer.status_code == 400
    assert answer.json()["error"]["fields"][0]["element"] == "idSituacao"
    assert not emulator.erp_order_cancelled(number)
    ours = emulator.situacao_id("Cancelado")
    answer = client.patch(f"/Api/v3/pedidos/vendas/{number}/situacoes/{ours}", headers=headers)
    assert answer.status_code == 204 and emulator.erp_order_cancelled(number)


def test_an_order_for_a_contact_that_does_not_exist_is_refused(client):
    access = refresh(client, BOOTSTRAP_REFRESH).json()["access_token"]
    headers = {"Authorization": f"Bearer {access}"}
    body = {"numeroLoja": "1", "contato": {"id": 1}, "itens": [{"quantidade": 1, "valor": 1}]}
    answer = client.post("/Api/v3/pedidos/vendas", json=body, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["error"]["fields"][0]["element"] == "contato"
    assert client.emulator.pedidos == {}


def test_the_nfe_xml_is_served_only_through_its_signed_link(client):
    """requirement: `xml` is a link (with a signature), not the XML: a client that builds the
    report URL from the access key alone gets nothing."""
    emulator = client.emulator
    access = refresh(client, BOOTSTRAP_REFRESH).json()["access_token"]
    headers = {"Authorization": f"Bearer {access}"}
    order = emulator.erp_add_order("X2", "CAM-PR", 1)
    key = emulator.erp_invoice_order(order)
    nfe_id = emulator.pedidos[int(order)]["notaFiscal"]["id"]
    nfe = client.get(f"/Api/v3/nfe/{nfe_id}", headers=headers).json()["data"]
    assert nfe["situacao"] == 5 and nfe["chaveAcesso"] == key
    assert client.get(nfe["xml"]).content.startswith(b"<")
    guessed = client.get("/relatorios/nfe.xml.php", params={"chaveAcesso": key})
    assert guessed.status_code == 404


@pytest.mark.parametrize(
    ("intermediador", "element"),
    [
        ({"cnpj": "03007331000140", "nomeUsuario": "LOJA"}, "intermediador.cnpj"),
        ({"cnpj": "03007331000141", "nomeUsuario": ""}, "intermediador.nomeUsuario"),
        ({"cnpj": "03007331000141"}, "intermediador.nomeUsuario"),
    ],
)
def test_an_intermediador_needs_a_valid_cnpj_and_the_user_name(client, intermediador, element):
    """requirement: the NF-e of a marketplace sale names the marketplace by a valid CNPJ and
    the seller's user name there (`infIntermed`: CNPJ and idCadIntTran): an order that gives
    one without the other, or a bad CNPJ, is refused."""
    access = refresh(client, BOOTSTRAP_REFRESH).json()["access_token"]
    headers = {"Authorization": f"Bearer {access}"}
    body = {
        "numeroLoja": "1",
        "contato": {"id": 1},
        "itens": [{"quantidade": 1, "valor": 1}],
        "intermediador": intermediador,
    }
    answer = client.post("/Api/v3/pedidos/vendas", json=body, headers=headers)
    assert answer.status_code == 400
    assert element in [f["element"] for f in answer.json()["error"]["fields"]]
    assert client.emulator.pedidos == {}


def test_the_order_listing_takes_periods_of_a_year_at_most(client, time):
    """requirement: `dataAlteracaoInicial`/`Final` take a local day and time ("2022-01-01
    10:00:00", Bling's OpenAPI example) or a day; another form, or a period over one year
    (changelog v306), is a 400 naming the field."""
    access = refresh(client, BOOTSTRAP_REFRESH).json()["access_token"]
    headers = {"Authorization": f"Bearer {access}"}

    def listing(**params: str) -> httpx.Response:
        time.advance(seconds=1)  # 3 requests per second
        return client.get("/Api/v3/pedidos/vendas", params=params, headers=headers)

    assert listing(dataAlteracaoInicial="2024-01-01", dataAlteracaoFinal="2024-06-16").json() == {
        "data": []
    }
    ok = listing(dataAlteracaoInicial="2024-01-01 10:00:00", dataAlteracaoFinal="2024-12-31")
    assert ok.status_code == 200
    for bad in ("2024-01-01T10:00:00", "01/01/2024", "2024-02-30"):
        refused = listing(dataAlteracaoInicial=bad)
        assert refused.status_code == 400
        assert refused.json()["error"]["fields"][0]["element"] == "dataAlteracaoInicial"
    too_long = listing(dataAlteracaoInicial="2023-01-01", dataAlteracaoFinal="2024-02-12")
    assert too_long.status_code == 400
    assert too_long.json()["error"]["type"] == "VALIDATION_ERROR"


def test_the_order_listing_takes_each_period_filter_in_its_documented_form(client, time):
    """requirement: Bling's OpenAPI declares `dataInicial`/`dataFinal` a date ("2022-01-01")
    and `dataAlteracaoInicial`/`Final` a datetime ("2022-01-01 10:00:00", local, no offset):
    a time on the order-date filter, an ISO "T" time, an offset or an ISO week date is a 400
    naming the field; the documented forms are answered."""
    access = refresh(client, BOOTSTRAP_REFRESH).json()["access_token"]
    headers = {"Authorization": f"Bearer {access}"}

    def listing(**params: str) -> httpx.Response:
        time.advance(seconds=1)  # 3 requests per second
        return client.get("/Api/v3/pedidos/vendas", params=params, headers=headers)

    assert listing(dataInicial="2022-01-01", dataFinal="2022-01-15").status_code == 200
    documented = listing(
        dataAlteracaoInicial="2022-01-01 10:00:00", dataAlteracaoFinal="2022-01-15 11:00:00"
    )
    assert documented.status_code == 200
    refused = {
        "dataInicial": ["2022-01-01 10:00:00", "2022-01-01T00:00:00"],
        "dataAlteracaoInicial": [
            "2022-01-01T10:00:00",
            "2022-01-01 10:00:00-03:00",
            "2022-01-01T13:00:00Z",
            "2022-W01-1",
        ],
    }
    for name, values in refused.items():
        for value in values:
            answer = listing(**{name: value})
            assert answer.status_code == 400, (name, value)
            assert answer.json()["error"]["fields"][0]["element"] == name
