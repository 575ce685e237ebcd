"""Printing wristbands from the admin's patient list (the list is already scoped to the user's facilities and
closed to the manufacturing role)."""

from collections.abc import Callable

from django.db.models import QuerySet

from products.admin.labels import Action, print_action
from products.labels.layout import A4_SHEET, THERMAL_4X2, WRISTBAND, Stock
from tracker.labels import wristbands_pdf


def _wristbands(stock: Stock) -> Callable[[QuerySet], bytes]:
    def render(patients: QuerySet) -> bytes:
        return wristbands_pdf(patients.select_related("facility").order_by("family_name", "id"), stock=stock)

    return render


WRISTBAND_ACTIONS: list[Action] = [
    print_action("wristbands", "wristbands", WRISTBAND, _wristbands(WRISTBAND), "wristbands.pdf"),
    *(
        print_action("patient_labels", "patient labels", stock, _wristbands(stock), "patient-labels.pdf")
        for stock in (THERMAL_4X2, A4_SHEET)
    ),
]
