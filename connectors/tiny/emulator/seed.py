"""Deterministic data of the emulated Olist ERP account: products (a kit among them),
marketplace e-commerces, buyers."""

from __future__ import annotations

from typing import Any

#: the account's CNPJ (the NF-e issuer)
ACCOUNT_CNPJ = "11222333000181"
#: e-commerces registered in the account: an order keeps `numeroPedidoEcommerce` only for one
#: of these (../shared/apis §6b: "needs a registered channel ecommerce.id")
ECOMMERCES: dict[int, str] = {
    101: "Loja Virtual",
    102: "Mercado Livre",
    103: "Hub da Olist",
}
HUB_ECOMMERCE = 103

#: (id, sku, descricao, saldo, kit components [(sku, qty)])
CATALOGUE: list[tuple[int, str, str, int, list[tuple[str, int]]]] = [
    (3001, "CAM-P", "Camiseta P", 40, []),
    (3002, "CAM-M", "Camiseta M", 25, []),
    (3003, "CAM-G", "Camiseta G", 12, []),
    (3004, "CANECA", "Caneca 300 ml", 60, []),
    (3005, "CAM-P-10", "Camiseta P (pacote)", 8, []),  # a code that starts like CAM-P
    (3006, "KIT-CAFE", "Kit café: 2 canecas", 0, [("CANECA", 2)]),
]
#: the SKUs the channel sandboxes of config.example.yaml sell, so `erpsync sync` on it pushes
#: their orders into this sandbox instead of refusing them as unknown products
SANDBOX_SKUS = (
    "BON-AZ",
    "BON-PR",
    "CABO-USB-C",
    "CAM-AZUL-M",
    "CAM-AZUL-P",
    "CAM-BRANCO-G",
    "CAM-PRETA-M",
    "CAM-PRETO-M",
    "CAM-PRETO-P",
    "CAMISETA-AZ-G",
    "CAMISETA-AZ-M",
    "CAMISETA-M",
    "CAMISETA-M-AZUL",
    "CAMISETA-P",
    "CAMISETA-P-AZUL",
    "CAN-300",
    "CAN-350",
    "CANECA-01",
    "CANECA-300",
    "CANECA-AZUL",
    "FONE-BT",
    "FONE-BT-01",
    "FONE-BT-FBA",
    "GAR-1L",
    "KIT-CANECA-2",
    "LIVRO-PY-01",
    "LUMINARIA/MESA 40cm",
    "MOC-01",
    "MOC-CINZA",
    "PANO-PRATO-KIT3",
)
PRODUCTS = [*CATALOGUE, *((3100 + n, sku, sku, 20, []) for n, sku in enumerate(SANDBOX_SKUS, 1))]
#: what the hub's own orders sell (the sandbox SKUs stay for the channels' orders)
HUB_SKUS = [sku for _, sku, _, _, kit in CATALOGUE if not kit]

BUYERS: list[dict[str, Any]] = [
    {"nome": "Maria da Silva", "cpfCnpj": "52998224725", "email": "maria@example.com"},
    {"nome": "Comércio Exemplo Ltda", "cpfCnpj": "27373722000148", "email": "compras@ex.com"},
    {"nome": "João Souza", "cpfCnpj": "39053344705", "email": "joao@example.com"},
]


def product_json(row: dict[str, Any]) -> dict[str, Any]:
    """ListagemProdutosResponseModel / ProdutoResponseModel: id, sku, descricao, tipo."""
    return {
        "id": row["id"],
        "sku": row["sku"],
        "descricao": row["descricao"],
        "tipo": "K" if row["kit"] else "S",
        "situacao": "A",
    }


#: CriarContatoModelRequest's properties (ContatoModel + vendedor, tipos, contatos) and
#: EnderecoModel's (TINY_V3_OPENAPI.json)
CONTACT_FIELDS = frozenset(
    {
        *("nome", "codigo", "fantasia", "tipoPessoa", "cpfCnpj", "inscricaoEstadual", "rg"),
        *("telefone", "celular", "email", "endereco", "enderecoCobranca", "inscricaoMunicipal"),
        *("telefoneAdicional", "emailNfe", "site", "regimeTributario", "estadoCivil"),
        *("profissao", "sexo", "dataNascimento", "naturalidade", "nomePai", "nomeMae"),
        *("cpfPai", "cpfMae", "limiteCredito", "situacao", "observacoes", "vendedor", "tipos"),
        "contatos",
    }
)
ADDRESS_FIELDS = frozenset(
    {"endereco", "numero", "complemento", "bairro", "municipio", "cep", "uf", "pais"}
)
#: J Jurídica, F Física, E Estrangeiro, X Estrangeiro no Brasil
TIPOS_PESSOA = frozenset({"J", "F", "E", "X"})
#: B Ativo, A Ativo com acesso ao sistema, I Inativo, E Excluído
CONTACT_SITUACOES = frozenset({"B", "A", "I", "E"})
