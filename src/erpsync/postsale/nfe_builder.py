"""Builds real-shaped NF-e 4.00 XMLs (nfeProc or bare NFe) with valid access keys, for tests.

For erpsync's own tests and the contract suite (erpsync.testing), and for connector authors:
``build_nfe(items=[...], freight="19.90", recipient="52998224725")`` gives an authorised
nfeProc that erpsync.postsale.nfe accepts.

The access key is computed from the fields it is made of (cUF, AAMM, CNPJ, modelo, série,
número, tpEmis, cNF) plus its modulo-11 check digit, the same way an ERP does; ``tamper`` then
lets a test break one thing at a time. The signature is a well-formed placeholder (tests do not
check the cryptography; erpsync checks its presence, as the issue asks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from html import escape as _html_escape
from typing import Any

ISSUER_CNPJ = "11222333000181"
BUYER_CPF = "52998224725"
BUYER_CNPJ = "27373722000148"


def escape(text: str) -> str:
    return _html_escape(text, quote=False)


def check_digit(first43: str) -> str:
    total = sum(int(d) * (2 + i % 8) for i, d in enumerate(reversed(first43)))
    remainder = total % 11
    return "0" if remainder < 2 else str(11 - remainder)


@dataclass
class NfeSpec:
    number: int = 1234
    series: int = 1
    model: str = "55"
    cuf: str = "35"
    cnf: str = "12345678"
    tp_emis: str = "1"
    tp_amb: str = "1"
    issued: str = "2026-11-02T10:00:00-03:00"
    authorised: str = "2026-11-02T10:00:05-03:00"
    issuer: str = ISSUER_CNPJ
    recipient: str | None = BUYER_CPF
    items: list[tuple[str, str, int, str]] = field(
        default_factory=lambda: [("SKU-A", "Caneca", 2, "10.00")]
    )
    freight: str = "0.00"
    discount: str = "0.00"
    x_ped: str | None = None
    compra_x_ped: str | None = None
    inf_cpl: str | None = None
    c_stat: str = "100"
    x_motivo: str = "Autorizado o uso da NF-e"
    protocol: str = "135260000012345"
    signed: bool = True
    processed: bool = True
    #: override the key written in infNFe/@Id (and protNFe/chNFe) after it was computed
    key_override: str | None = None

    @property
    def key(self) -> str:
        if self.key_override is not None:
            return self.key_override
        aamm = self.issued[2:4] + self.issued[5:7]
        first43 = (
            f"{self.cuf}{aamm}{self.issuer.zfill(14)}{self.model}{self.series:03d}"
            f"{self.number:09d}{self.tp_emis}{self.cnf}"
        )
        return first43 + check_digit(first43)

    @property
    def products_total(self) -> Decimal:
        return sum((Decimal(p) * q for _, _, q, p in self.items), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.products_total + Decimal(self.freight) - Decimal(self.discount)


def tampered_key(key: str) -> str:
    """The same key with its check digit wrong."""
    return key[:43] + str((int(key[43]) + 1) % 10)


def build_nfe(spec: NfeSpec | None = None, **changes: Any) -> bytes:
    """The XML of ``spec`` (or of an NfeSpec with ``changes``), as UTF-8 bytes."""
    spec = spec or NfeSpec(**changes)
    key = spec.key
    nfe = _nfe(spec, key)
    if not spec.processed:
        return f'<?xml version="1.0" encoding="UTF-8"?>\n{nfe}'.encode()
    prot = (
        '<protNFe versao="4.00"><infProt>'
        f"<tpAmb>{spec.tp_amb}</tpAmb><verAplic>SP_NFE_PL009_V4</verAplic>"
        f"<chNFe>{key}</chNFe><dhRecbto>{spec.authorised}</dhRecbto>"
        f"<nProt>{spec.protocol}</nProt><digVal>cGxhY2Vob2xkZXJkaWdlc3Q=</digVal>"
        f"<cStat>{spec.c_stat}</cStat><xMotivo>{escape(spec.x_motivo)}</xMotivo>"
        "</infProt></protNFe>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<nfeProc xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00">{nfe}{prot}</nfeProc>'
    ).encode()


def _nfe(spec: NfeSpec, key: str) -> str:
    dv = key[-1]
    ide = (
        f"<ide><cUF>{spec.cuf}</cUF><cNF>{spec.cnf}</cNF><natOp>VENDA DE MERCADORIA</natOp>"
        f"<mod>{spec.model}</mod><serie>{spec.series}</serie><nNF>{spec.number}</nNF>"
        f"<dhEmi>{spec.issued}</dhEmi><dhSaiEnt>{spec.issued}</dhSaiEnt><tpNF>1</tpNF>"
        "<idDest>1</idDest><cMunFG>3550308</cMunFG><tpImp>1</tpImp>"
        f"<tpEmis>{spec.tp_emis}</tpEmis><cDV>{dv}</cDV><tpAmb>{spec.tp_amb}</tpAmb>"
        "<finNFe>1</finNFe><indFinal>1</indFinal><indPres>2</indPres><indIntermed>1</indIntermed>"
        "<procEmi>0</procEmi><verProc>erpsync-tests 1.0</verProc></ide>"
    )
    emit = (
        f"<emit><CNPJ>{spec.issuer}</CNPJ><xNome>LOJA EXEMPLO LTDA</xNome>"
        "<enderEmit><xLgr>RUA DAS FLORES</xLgr><nro>100</nro><xBairro>CENTRO</xBairro>"
        "<cMun>3550308</cMun><xMun>SAO PAULO</xMun><UF>SP</UF><CEP>01001000</CEP>"
        "<cPais>1058</cPais><xPais>BRASIL</xPais></enderEmit>"
        "<IE>111111111111</IE><CRT>1</CRT></emit>"
    )
    dest = ""
    if spec.recipient is not None:
        tag = "CPF" if len(spec.recipient) == 11 else "CNPJ"
        dest = (
            f"<dest><{tag}>{spec.recipient}</{tag}><xNome>CLIENTE TESTE</xNome>"
            "<enderDest><xLgr>AV PAULISTA</xLgr><nro>1000</nro><xBairro>BELA VISTA</xBairro>"
            "<cMun>3550308</cMun><xMun>SAO PAULO</xMun><UF>SP</UF><CEP>01310100</CEP>"
            "<cPais>1058</cPais><xPais>BRASIL</xPais></enderDest>"
            "<indIEDest>9</indIEDest></dest>"
        )
    dets = "".join(_det(n, item, spec.x_ped) for n, item in enumerate(spec.items, start=1))
    total = (
        "<total><ICMSTot><vBC>0.00</vBC><vICMS>0.00</vICMS><vICMSDeson>0.00</vICMSDeson>"
        "<vFCP>0.00</vFCP><vBCST>0.00</vBCST><vST>0.00</vST><vFCPST>0.00</vFCPST>"
        f"<vFCPSTRet>0.00</vFCPSTRet><vProd>{spec.products_total:.2f}</vProd>"
        f"<vFrete>{Decimal(spec.freight):.2f}</vFrete><vSeg>0.00</vSeg>"
        f"<vDesc>{Decimal(spec.discount):.2f}</vDesc><vII>0.00</vII><vIPI>0.00</vIPI>"
        "<vIPIDevol>0.00</vIPIDevol><vPIS>0.00</vPIS><vCOFINS>0.00</vCOFINS><vOutro>0.00</vOutro>"
        f"<vNF>{spec.total:.2f}</vNF></ICMSTot></total>"
    )
    transp = "<transp><modFrete>0</modFrete></transp>"
    pag = (
        "<pag><detPag><indPag>0</indPag><tPag>03</tPag>"
        f"<vPag>{spec.total:.2f}</vPag></detPag></pag>"
    )
    intermed = (
        "<infIntermed><CNPJ>03007331000141</CNPJ><idCadIntTran>loja</idCadIntTran></infIntermed>"
    )
    adic = f"<infAdic><infCpl>{escape(spec.inf_cpl)}</infCpl></infAdic>" if spec.inf_cpl else ""
    compra = f"<compra><xPed>{spec.compra_x_ped}</xPed></compra>" if spec.compra_x_ped else ""
    signature = _SIGNATURE.format(key=key) if spec.signed else ""
    return (
        f'<NFe xmlns="http://www.portalfiscal.inf.br/nfe"><infNFe Id="NFe{key}" versao="4.00">'
        f"{ide}{emit}{dest}{dets}{total}{transp}{pag}{intermed}{adic}{compra}"
        f"</infNFe>{signature}</NFe>"
    )


def _det(n: int, item: tuple[str, str, int, str], x_ped: str | None) -> str:
    code, name, quantity, price = item
    value = Decimal(price) * quantity
    ped = f"<xPed>{x_ped}</xPed><nItemPed>{n}</nItemPed>" if x_ped else ""
    return (
        f'<det nItem="{n}"><prod><cProd>{code}</cProd><cEAN>SEM GTIN</cEAN>'
        f"<xProd>{escape(name)}</xProd><NCM>69120000</NCM><CFOP>5102</CFOP><uCom>UN</uCom>"
        f"<qCom>{quantity}.0000</qCom><vUnCom>{Decimal(price):.10f}</vUnCom>"
        f"<vProd>{value:.2f}</vProd><cEANTrib>SEM GTIN</cEANTrib><uTrib>UN</uTrib>"
        f"<qTrib>{quantity}.0000</qTrib><vUnTrib>{Decimal(price):.10f}</vUnTrib>"
        f"<indTot>1</indTot>{ped}</prod>"
        "<imposto><ICMS><ICMSSN102><orig>0</orig><CSOSN>102</CSOSN></ICMSSN102></ICMS>"
        "<PIS><PISNT><CST>07</CST></PISNT></PIS><COFINS><COFINSNT><CST>07</CST></COFINSNT>"
        "</COFINS></imposto></det>"
    )


_SIGNATURE = (
    '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>'
    '<CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>'
    '<SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/>'
    '<Reference URI="#NFe{key}"><Transforms>'
    '<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
    '<Transform Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/></Transforms>'
    '<DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>'
    "<DigestValue>cGxhY2Vob2xkZXJkaWdlc3Q=</DigestValue></Reference></SignedInfo>"
    "<SignatureValue>cGxhY2Vob2xkZXJzaWduYXR1cmU=</SignatureValue>"
    "<KeyInfo><X509Data><X509Certificate>cGxhY2Vob2xkZXJjZXJ0</X509Certificate></X509Data>"
    "</KeyInfo></Signature>"
)
