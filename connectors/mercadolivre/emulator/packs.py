"""The emulator's fiscal documents per pack: POST/GET /packs/{id}/fiscal_documents.

ref: developers.mercadolivre.com.br/anexar-nota-fiscal (updated 2026-04-07) and /carregar-nf
("Envio de Notas Fiscais para Flex, ME1 e Drop_off"); the same resource on
developers.mercadolibre.com.ar/en_us/upload-invoices. What it enforces, so a wrong client fails:
- a bearer token (401 otherwise);
- the pack exists: a cart's ``pack_id``, or the id of an order that has no pack ("if the pack id
  is null, take the order id, keeping /packs"); an order id of an order that *is* in a pack is
  not its pack (404) [U: the pages only describe the null case];
- ``multipart/form-data`` with the file in the field ``fiscal_document``, typed
  ``application/pdf``, ``application/xml`` or ``text/xml``, at most 1 MB; an XML must parse;
- one fiscal document of each kind per pack ("only one fiscal_document per pack"; an XML and
  a PDF may go together): a second one of the same kind is refused (400) [U: the code];
- Full packs are refused: ML invoices them itself (the .ar page says so for Chile; in Brazil
  the Faturador issues Full's NF-e) [R].
Uploading does not touch the shipment (the pages: attaching "não altera o status do envio").
Answers {"ids": [...]} as the pages show. ``GET`` lists ``{"pack_id", "fiscal_documents":
[{"id", "file_type", "date_created"}]}`` and ``GET .../{file_id}`` serves the file [R: the
listing's shape comes from integrator code; the pages name the calls].
Multipart bodies are read with the standard library's email parser: python-multipart is not
an erpsync dependency.
"""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from typing import Any

from lxml import etree
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from erpsync.connectors.mercadolivre.emulator.state import MlState
from erpsync.connectors.mercadolivre.emulator.wire import error, ml_time, unauthorized

LIMIT = 1024 * 1024
KINDS = {"application/pdf": "pdf", "application/xml": "xml", "text/xml": "xml"}


class PacksMixin(MlState):
    """Mixed into MercadoLivreEmulator (which provides orders, shipments, auth)."""

    def setup_packs(self) -> None:
        #: pack id -> the documents attached to it, in upload order
        self.pack_documents: dict[int, list[dict[str, Any]]] = {}

    def pack_routes(self) -> list[BaseRoute]:
        return [
            Route(
                "/packs/{pack_id:int}/fiscal_documents",
                self.fiscal_documents,
                methods=["GET", "POST"],
            ),
            Route(
                "/packs/{pack_id:int}/fiscal_documents/{file_id}",
                self.fiscal_document,
                methods=["GET", "DELETE"],
            ),
        ]

    def pack_of(self, external_id: str) -> int:
        """The pack an order's NF-e goes to: its pack_id, else its own id."""
        order = self.orders[int(external_id)]
        return int(order.get("pack_id") or order["id"])

    def pack_xml_key(self, pack_id: int) -> str | None:
        """The access key of the NF-e XML attached to the pack, if any (tests)."""
        for document in self.pack_documents.get(pack_id, ()):
            if document["kind"] == "xml":
                root = etree.fromstring(document["content"], _PARSER)
                key = root.findtext(".//{http://www.portalfiscal.inf.br/nfe}chNFe")
                return None if key is None else key.strip()
        return None

    def _pack_orders(self, pack_id: int) -> list[dict[str, Any]] | None:
        by_pack = [o for o in self.orders.values() if o.get("pack_id") == pack_id]
        if by_pack:
            return by_pack
        order = self.orders.get(pack_id)
        if order is not None and not order.get("pack_id"):
            return [order]
        return None

    async def fiscal_documents(self, request: Request) -> Response:
        if self.caller(request) is None:
            return unauthorized()
        pack_id = request.path_params["pack_id"]
        with self.lock:
            orders = self._pack_orders(pack_id)
            if orders is None:
                return error(404, f"Pack {pack_id} not found", "not_found")
            if request.method == "GET":
                held = self.pack_documents.get(pack_id, [])
                return JSONResponse(
                    {
                        "pack_id": pack_id,
                        "fiscal_documents": [
                            {k: d[k] for k in ("id", "file_type", "date_created")} for d in held
                        ],
                    }
                )
            body = await request.body()
            return self._attach(pack_id, orders, request.headers.get("content-type", ""), body)

    def _attach(
        self, pack_id: int, orders: list[dict[str, Any]], content_type: str, body: bytes
    ) -> Response:
        if not content_type.startswith("multipart/form-data"):
            return error(400, "Content-Type must be multipart/form-data", "bad_request")  # [U]
        part = _file_part(content_type, body)
        if part is None:
            return error(400, "The fiscal_document file is required", "bad_request")  # [U]
        file_type, content = part
        kind = KINDS.get(file_type)
        if kind is None:
            return error(400, f"Invalid file type {file_type}", "bad_request")  # [U]
        if len(content) > LIMIT:
            return error(400, "The file exceeds 1 MB", "bad_request")  # [U]
        if kind == "xml" and not _parses(content):
            return error(400, "The file is not a valid XML", "bad_request")  # [U]
        if any(_logistic(self.shipments, o) == "fulfillment" for o in orders):
            return error(400, "Fulfillment packs do not take fiscal documents", "bad_request")
        held = self.pack_documents.setdefault(pack_id, [])
        if any(document["kind"] == kind for document in held):
            return error(
                400,
                f"The pack already has a fiscal document of type {kind}",
                "bad_request",
            )  # [U]
        file_id = f"{pack_id}_{len(held) + 1:04d}-{kind}"
        held.append(
            {
                "id": file_id,
                "kind": kind,
                "file_type": file_type,
                "content": content,
                "date_created": ml_time(self.clock()),
            }
        )
        return JSONResponse({"ids": [file_id]})

    async def fiscal_document(self, request: Request) -> Response:
        if self.caller(request) is None:
            return unauthorized()
        pack_id, file_id = request.path_params["pack_id"], request.path_params["file_id"]
        with self.lock:
            held = self.pack_documents.get(pack_id, [])
            found = next((d for d in held if d["id"] == file_id), None)
            if found is None:
                return error(404, f"Fiscal document {file_id} not found", "not_found")
            if request.method == "DELETE":
                held.remove(found)
                return JSONResponse({"id": file_id, "deleted": True})
            return Response(found["content"], media_type=found["file_type"])


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _parses(content: bytes) -> bool:
    try:
        etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError:
        return False
    return True


def _file_part(content_type: str, body: bytes) -> tuple[str, bytes] | None:
    """(its content type, its bytes) of the ``fiscal_document`` file part, or None."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        return None
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") != "fiscal_document":
            continue
        if part.get_filename() is None:
            return None
        payload = part.get_payload(decode=True)
        return part.get_content_type(), payload if isinstance(payload, bytes) else b""
    return None


def _logistic(shipments: dict[int, dict[str, Any]], order: dict[str, Any]) -> str | None:
    shipment = shipments.get((order.get("shipping") or {}).get("id") or 0) or {}
    return (shipment.get("logistic") or {}).get("type")
