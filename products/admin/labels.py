"""Printing labels from the admin: an action on the units' and the collections' lists, one PDF for every unit or
collection selected (several labels a page on sheet stock). The list is already scoped to the user's facilities."""

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from products.labels import collection_labels_pdf, unit_labels_pdf
from products.labels.layout import LABEL_STOCKS, Stock
from products.selectors import collections_for_labels, units_for_labels

Action = Callable[[Any, HttpRequest, QuerySet], HttpResponse | None]


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def print_action(name: str, what: str, stock: Stock, render: Callable[[QuerySet], bytes], filename: str) -> Action:
    """An admin action printing the selected rows on `stock`."""

    @admin.action(description=f"Print {what}: {stock.description}", permissions=["view"])
    def action(modeladmin: Any, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        # The selection is looked up in the user's own list: ids of rows not theirs select nothing.
        if not queryset.exists():
            messages.warning(request, "Nothing to print: none of the selected rows is on your list.")
            return None
        return pdf_response(render(queryset), filename)

    action.__name__ = f"print_{name}_{stock.code}"
    return action


def _units(stock: Stock) -> Callable[[QuerySet], bytes]:
    return lambda queryset: unit_labels_pdf(units_for_labels(queryset.order_by("unit_id")), stock=stock)


def _collections(stock: Stock) -> Callable[[QuerySet], bytes]:
    return lambda queryset: collection_labels_pdf(
        collections_for_labels(queryset.order_by("collected_at", "id")), stock=stock
    )


def _each(stocks: Iterable[Stock], make: Callable[[Stock], Action]) -> list[Action]:
    return [make(stock) for stock in stocks]


UNIT_LABEL_ACTIONS = _each(
    LABEL_STOCKS.values(), lambda s: print_action("unit_labels", "labels", s, _units(s), "unit-labels.pdf")
)
COLLECTION_LABEL_ACTIONS = _each(
    LABEL_STOCKS.values(),
    lambda s: print_action("collection_labels", "labels", s, _collections(s), "collection-labels.pdf"),
)
