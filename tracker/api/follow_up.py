"""Long-term follow-up over HTTP: registry documents by time point, patients lost to follow-up, and transfers of a
patient's follow-up to another facility. Patient data: closed to the roles that may not see patients."""

from typing import Any

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from products.api.mixins import ServiceCreateMixin, actor_of
from products.api.permissions import roles_may_write, roles_required
from products.api.serializers import DomainErrorSerializer
from products.api.views import write_responses
from products.models import Facility
from tracker.api.views import PATIENT_DATA
from tracker.errors import NoCourse
from tracker.follow_up import LOST_TO_FOLLOW_UP_ROLES, lost_to_follow_up
from tracker.models import Patient, PatientTransfer
from tracker.registry import registry_course, registry_documents
from tracker.rules import registry as registry_rules
from tracker.selectors import orders_visible_to, patients_visible_to
from tracker.services.transfers import TRANSFER_ROLES, patient_transfer

NOT_YOURS = OpenApiResponse(description="No such patient at your facilities.")
NO_PATIENT_DATA = OpenApiResponse(
    DomainErrorSerializer, description="Your role has no access to patient data (manufacturing, safety)."
)


# Registry documents --------------------------------------------------------------------------------------------


class RegistryDocumentSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    timepoint = serializers.ChoiceField(choices=registry_rules.CHOICES)
    label = serializers.CharField()  # type: ignore[assignment]
    coi = serializers.CharField(help_text="The course (order) the document describes.")
    due_date = serializers.DateField(allow_null=True, help_text="Null until the course is infused.")
    data = serializers.DictField(  # type: ignore[assignment]
        child=serializers.JSONField(),
        help_text="What the registry asks at this time point, as on record (see the README for each time point).",
    )
    missing = serializers.ListField(
        child=serializers.CharField(),
        help_text="Names of the `data` fields still missing: chase them before it falls due.",
    )


class RegistryIndexSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    coi = serializers.CharField()
    documents = RegistryDocumentSerializer(many=True, help_text="Every time point, in order.")


class RegistryQuerySerializer(serializers.Serializer):
    timepoint = serializers.ChoiceField(choices=registry_rules.CODES, required=False)
    coi = serializers.CharField(required=False, max_length=40)


class PatientRegistryView(APIView):
    """The patient's registry documents (CIBMTR's time points: pre-infusion, product, infusion, day 100, month 6,
    year 1, then yearly to year 15), each with what is still missing."""

    permission_classes = PATIENT_DATA

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "timepoint",
                OpenApiTypes.STR,
                enum=list(registry_rules.CODES),
                description="One time point's document; without it, the index of every time point's document.",
            ),
            OpenApiParameter("coi", OpenApiTypes.STR, description="The course; the latest infused when absent."),
        ],
        responses={
            200: PolymorphicProxySerializer(
                component_name="RegistryAnswer",
                serializers=[RegistryDocumentSerializer, RegistryIndexSerializer],
                resource_type_field_name=None,
            ),
            400: OpenApiResponse(description='Unknown time point or COI: `{"field": ["message"]}`.'),
            403: NO_PATIENT_DATA,
            404: NOT_YOURS,
            409: OpenApiResponse(DomainErrorSerializer, description="`no_course`: the patient has no order."),
        },
    )
    def get(self, request: Request, id: int) -> Response:
        patient = get_object_or_404(patients_visible_to(request.user), id=id)
        query = RegistryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        orders = orders_visible_to(request.user).filter(patient=patient)
        coi = query.validated_data.get("coi")
        order = registry_course(orders, coi=coi)
        if order is None:
            if coi:
                raise serializers.ValidationError({"coi": ["No order of this patient has this COI."]})
            raise NoCourse()
        timepoint = query.validated_data.get("timepoint")
        documents = registry_documents(order=order, timepoint=timepoint)
        if timepoint:
            return Response(RegistryDocumentSerializer(documents[0]).data)
        return Response(
            RegistryIndexSerializer({"patient": patient.id, "coi": order.chain.coi, "documents": documents}).data
        )


# Lost to follow-up ---------------------------------------------------------------------------------------------


class LostToFollowUpSerializer(serializers.ModelSerializer):
    facility: "serializers.SlugRelatedField[Facility]" = serializers.SlugRelatedField(slug_field="code", read_only=True)
    product = serializers.CharField(source="product_name", read_only=True, help_text="The latest course's product.")
    coi = serializers.CharField(read_only=True, help_text="The latest course's COI.")
    infused_at = serializers.DateTimeField(read_only=True, help_text="The latest course's latest infusion.")
    last_contact_at = serializers.DateTimeField(read_only=True, help_text="The last contact on record.")
    allowed_days = serializers.IntegerField(
        read_only=True, help_text="The product's protocol allows this many days without contact."
    )
    days_without_contact = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = [
            "id",
            "mrn",
            "given_name",
            "family_name",
            "facility",
            "product",
            "coi",
            "infused_at",
            "last_contact_at",
            "days_without_contact",
            "allowed_days",
        ]
        read_only_fields = fields

    def get_days_without_contact(self, patient: Patient) -> int:
        return (self.context["now"] - patient.last_contact_at).days  # type: ignore[attr-defined]


class LostToFollowUpList(generics.ListAPIView):
    """Patients still in follow-up with no contact on record for longer than their product's protocol allows
    (`lost_to_follow_up_days`), longest first. Coordinators (and superusers), their facilities' patients."""

    serializer_class = LostToFollowUpSerializer
    permission_classes = [*PATIENT_DATA, roles_required(*LOST_TO_FOLLOW_UP_ROLES)]
    filterset_class = None

    @extend_schema(
        parameters=[OpenApiParameter("facility", OpenApiTypes.STR, description="Only this facility's patients.")],
        responses={200: LostToFollowUpSerializer(many=True), 403: NO_PATIENT_DATA},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": self.now}

    def get_queryset(self) -> QuerySet[Patient]:
        self.now = timezone.now()
        patients = lost_to_follow_up(user=self.request.user, now=self.now)
        facility = self.request.query_params.get("facility")
        return patients.filter(facility__code=facility) if facility else patients


# Transfers -----------------------------------------------------------------------------------------------------


class PatientTransferSerializer(serializers.ModelSerializer):
    from_facility: "serializers.SlugRelatedField[Facility]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    to_facility: "serializers.SlugRelatedField[Facility]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    transferred_by: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = PatientTransfer
        fields = [
            "id",
            "patient",
            "from_facility",
            "to_facility",
            "previous_mrn",
            "mrn",
            "reason",
            "transferred_by",
            "transferred_at",
        ]
        read_only_fields = fields


class PatientTransferInputSerializer(serializers.Serializer):
    facility = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Facility.objects.all(),
        help_text="The treatment facility that takes over the follow-up (it need not be one of yours).",
    )
    reason = serializers.CharField(max_length=2000, help_text="Why the follow-up moves (kept in the audit trail).")
    mrn = serializers.CharField(
        max_length=40, required=False, default="", help_text="The patient's MRN there; the same when absent."
    )


@extend_schema_view(
    post=extend_schema(
        request=PatientTransferInputSerializer,
        responses=write_responses(201, PatientTransferSerializer),
        description="Move the patient's follow-up to another treatment facility, with its whole history: the new "
        "facility's staff see every record from now on, and the patient's open reminders go there. A coordinator of "
        "the patient's current facility only (403 otherwise). The old facility no longer sees the patient (its "
        "product-side records and its surveillance figures stay). 400 on `facility` (the same one, or not an active "
        "treatment facility), `reason` (empty) or `mrn` (taken there).",
    )
)
class PatientTransferListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    """The transfers of the patient's follow-up, latest first."""

    serializer_class = PatientTransferSerializer
    input_serializer_class = PatientTransferInputSerializer
    permission_classes = [*PATIENT_DATA, roles_may_write(*TRANSFER_ROLES)]
    filterset_class = None

    def patient(self) -> Patient:
        return get_object_or_404(patients_visible_to(self.request.user), id=self.kwargs["id"])

    def get_queryset(self) -> QuerySet[PatientTransfer]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no patient id
            return PatientTransfer.objects.none()
        return PatientTransfer.objects.filter(patient=self.patient()).select_related(
            "from_facility", "to_facility", "transferred_by"
        )

    def perform_service(self, data: dict[str, Any]) -> Model:
        return patient_transfer(actor=actor_of(self.request), patient_id=self.patient().pk, **data)
