"""Labels as PDFs: `units/{unit_id}/label.pdf` and `collections/{id}/label.pdf` (the wristband is the patient
side's, tracker.api.labels). Each answers a PDF, or JSON for an error like every other endpoint."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from products import selectors
from products.labels import collection_labels_pdf, unit_labels_pdf
from products.labels.layout import LABEL_STOCKS, Stock


class PdfRenderer(BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return data if isinstance(data, bytes) else JSONRenderer().render(data)


def stock_parameter(stocks: dict[str, Stock], default: str) -> OpenApiParameter:
    described = "; ".join(f"`{code}`: {stock.description}" for code, stock in stocks.items())
    return OpenApiParameter(
        "stock", str, enum=list(stocks), default=default, description=f"The label stock. {described}."
    )


def pdf_responses(what: str) -> dict[Any, Any]:
    return {
        (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description=what),
        400: OpenApiResponse(description='An unknown `stock`: `{"stock": ["message"]}`.'),
        403: OpenApiResponse(description="Your role may not see this."),
        404: OpenApiResponse(description="Not found, or not yours to see."),
    }


class PdfView(APIView):
    """A GET that answers a PDF, printed on the `stock` the query names."""

    renderer_classes = [PdfRenderer, JSONRenderer]
    stocks: dict[str, Stock] = LABEL_STOCKS
    default_stock = "4x2in"

    def stock(self, request: Request) -> Stock:
        field = serializers.ChoiceField(choices=list(self.stocks), default=self.default_stock)
        try:
            code = field.run_validation(request.query_params.get("stock", self.default_stock))
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"stock": exc.detail}) from exc
        return self.stocks[code]

    def pdf(self, content: bytes, filename: str) -> HttpResponse:
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        return response

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # An error is JSON ({"detail"} or field errors), whatever the client asked for.
        if isinstance(response, Response):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


def safe_filename(text: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in text)


class UnitLabelView(PdfView):
    """The unit's label (no patient data: the COI stands for the patient)."""

    def units(self, request: Request) -> QuerySet:
        return selectors.units_for_labels(selectors.units_visible_to(request.user))

    @extend_schema(
        parameters=[stock_parameter(LABEL_STOCKS, "4x2in")],
        responses=pdf_responses(
            "The unit label: the statements (FOR AUTOLOGOUS USE ONLY for an autologous product), the product, the "
            "DIN with its check character boxed, the COI, the dose, volume, expiry, storage temperature, lot and unit "
            "id as text; Code 128 of the DIN with its ISBT 128 data identifier (`=`, 13 characters, 2 flags; no "
            "check character) and of the unit id; a QR code of `V2V1|<COI>|<expiry UTC YYYYMMDDTHHMMZ>|<unit id>`."
        ),
    )
    def get(self, request: Request, unit_id: str) -> HttpResponse:
        stock = self.stock(request)
        unit = get_object_or_404(self.units(request), unit_id=unit_id)
        return self.pdf(unit_labels_pdf([unit], stock=stock), f"unit-{safe_filename(unit.unit_id)}.pdf")


class CollectionLabelView(PdfView):
    """The collection bag's label."""

    @extend_schema(
        parameters=[stock_parameter(LABEL_STOCKS, "4x2in")],
        responses=pdf_responses(
            "The collection bag's label: the statements, the product, the DIN with its check character boxed, the "
            "collection's method, volume, time and site, the COI; Code 128 of the DIN with its ISBT 128 data "
            "identifier and of the COI."
        ),
    )
    def get(self, request: Request, id: int) -> HttpResponse:
        stock = self.stock(request)
        collections = selectors.collections_for_labels(selectors.collections_visible_to(request.user))
        collection = get_object_or_404(collections, id=id)
        return self.pdf(collection_labels_pdf([collection], stock=stock), f"collection-{collection.din}.pdf")
