"""`patients/{id}/wristband.pdf`: the patient's wristband (PHI; closed to the manufacturing role, 403)."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request

from products.api.labels import PdfView, pdf_responses, stock_parameter
from products.labels.layout import WRISTBAND, WRISTBAND_STOCKS
from tracker.api.views import PATIENT_DATA
from tracker.labels import wristbands_pdf
from tracker.selectors import patients_visible_to


class WristbandView(PdfView):
    permission_classes = PATIENT_DATA
    stocks = WRISTBAND_STOCKS
    default_stock = WRISTBAND.code

    @extend_schema(
        parameters=[stock_parameter(WRISTBAND_STOCKS, WRISTBAND.code)],
        responses=pdf_responses(
            "The wristband (or, on label stock, a patient label): name, birth date, sex, MRN and facility as text, "
            "and a Code 128 of the MRN (what the bedside check scans as `scanned_patient`)."
        ),
    )
    def get(self, request: Request, id: int) -> HttpResponse:
        stock = self.stock(request)
        patient = get_object_or_404(patients_visible_to(request.user), id=id)
        # The file name carries the record's id only: no name or MRN in download folders.
        return self.pdf(wristbands_pdf([patient], stock=stock), f"wristband-{patient.id}.pdf")
