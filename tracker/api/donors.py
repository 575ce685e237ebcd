"""Allogeneic donors: `donors/` (the person, with the product side's code and eligibility), their screening,
infectious-disease tests and QA's e-signed eligibility determination.

The whole tree is patient-side (closed to the manufacturing role, which knows donors by code only, on collections,
batches and units). A donor's records are seen wherever the donor's cells go (products.selectors.donors_visible_to);
who the donor is (name, birth date, contact) only by members of the donor's facility, null for everyone else.
"""

from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers

from products.api.mixins import ServiceCreateMixin, actor_of
from products.api.serializers.batches import SignatureInputSerializer, SignatureSerializer
from products.api.serializers.fields import BoundedDateField, BoundedDateTimeField, HlaField, free_text
from products.api.views import write_responses
from products.choices import (
    DiseaseTest,
    DiseaseTestResult,
    Eligibility,
    EligibilityDecision,
    ScreeningKind,
    ScreeningOutcome,
)
from products.models import Donor, DonorDetermination, DonorScreening, DonorTest, Facility
from products.selectors import donors_visible_to
from products.services.donors import donor_determine, donor_screening_record, donor_test_record
from tracker.api.views import PATIENT_DATA
from tracker.choices import Sex
from tracker.selectors import donor_identity_visible
from tracker.services.donors import donor_register

IDENTITY_FIELDS = ("given_name", "family_name", "birth_date", "sex", "phone", "email", "address")


class DonorSerializer(serializers.ModelSerializer):
    """A donor: the product side's code and eligibility, and who the donor is (only for the donor's facility)."""

    facility = serializers.SlugRelatedField[Facility](slug_field="code", read_only=True)
    hla = HlaField(read_only=True)
    eligibility = serializers.ChoiceField(choices=Eligibility.choices, read_only=True)
    identity_visible = serializers.SerializerMethodField(
        help_text="Whether the caller may see who the donor is (a member of the donor's facility); if not, the "
        "identity fields are null."
    )
    given_name = serializers.SerializerMethodField()
    family_name = serializers.SerializerMethodField()
    birth_date = serializers.SerializerMethodField()
    sex = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    email = serializers.SerializerMethodField()
    address = serializers.SerializerMethodField()

    class Meta:
        model = Donor
        fields = [
            "id",
            "donor_code",
            "facility",
            "eligibility",
            "hla",
            "identity_visible",
            *IDENTITY_FIELDS,
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _identity(self, donor: Donor) -> Any:
        request = self.context.get("request")
        if request is None or not donor_identity_visible(request.user, donor):
            return None
        return getattr(donor, "identity", None)

    def get_identity_visible(self, donor: Donor) -> bool:
        return self._identity(donor) is not None

    def _field(self, donor: Donor, name: str) -> Any:
        identity = self._identity(donor)
        return getattr(identity, name) if identity is not None else None

    def get_given_name(self, donor: Donor) -> str | None:
        return self._field(donor, "given_name")

    def get_family_name(self, donor: Donor) -> str | None:
        return self._field(donor, "family_name")

    def get_birth_date(self, donor: Donor) -> date | None:
        return self._field(donor, "birth_date")

    def get_sex(self, donor: Donor) -> str | None:
        return self._field(donor, "sex")

    def get_phone(self, donor: Donor) -> str | None:
        return self._field(donor, "phone")

    def get_email(self, donor: Donor) -> str | None:
        return self._field(donor, "email")

    def get_address(self, donor: Donor) -> str | None:
        return self._field(donor, "address")


class DonorInputSerializer(serializers.Serializer):
    facility = serializers.SlugRelatedField[Facility](
        slug_field="code", queryset=Facility.objects.all(), help_text="Where the donor is screened (its code)."
    )
    given_name = serializers.CharField(max_length=100)
    family_name = serializers.CharField(max_length=100)
    birth_date = BoundedDateField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    address = free_text(required=False, allow_blank=True, default="")
    hla = HlaField(required=False, allow_null=True, default=None)


class DonorScreeningSerializer(serializers.ModelSerializer):
    """A screening (21 CFR 1271.75): the medical history and questionnaire, or the physical assessment."""

    performed_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True)

    class Meta:
        model = DonorScreening
        fields = ["id", "kind", "outcome", "performed_at", "performed_by", "findings", "created_at"]
        read_only_fields = fields


class DonorScreeningInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ScreeningKind.choices)
    outcome = serializers.ChoiceField(choices=ScreeningOutcome.choices)
    performed_at = BoundedDateTimeField()
    findings = free_text(
        required=False, allow_blank=True, default="", help_text="Required when a risk was found: what it was."
    )


class DonorTestSerializer(serializers.ModelSerializer):
    """An infectious-disease test result, with the date its specimen was taken (21 CFR 1271.80(b))."""

    recorded_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True)

    class Meta:
        model = DonorTest
        fields = ["id", "test", "result", "sampled_at", "note", "recorded_by", "created_at"]
        read_only_fields = fields


class DonorTestInputSerializer(serializers.Serializer):
    test = serializers.ChoiceField(choices=DiseaseTest.choices)
    result = serializers.ChoiceField(choices=DiseaseTestResult.choices)
    sampled_at = BoundedDateTimeField(help_text="When the specimen was taken.")
    note = free_text(required=False, allow_blank=True, default="")


class DonorDeterminationSerializer(serializers.ModelSerializer):
    """QA's determination, with its signature (which keeps the records it judged: `reviewed`)."""

    donor = serializers.CharField(source="donor.donor_code", read_only=True)
    signature = SignatureSerializer(read_only=True)

    class Meta:
        model = DonorDetermination
        fields = ["id", "donor", "determination", "determined_at", "signature"]
        read_only_fields = fields


class DeterminationInputSerializer(SignatureInputSerializer):
    determination = serializers.ChoiceField(choices=EligibilityDecision.choices)


# --- views -----------------------------------------------------------------------------------------------


def _donors(request: Any) -> QuerySet[Donor]:
    return donors_visible_to(request.user).select_related("identity").order_by("donor_code")


@extend_schema_view(
    get=extend_schema(
        description="Donors whose records the caller may see (their facility, or where their cells went); who "
        "each donor is only for members of the donor's facility (else null, `identity_visible` false)."
    ),
    post=extend_schema(
        request=DonorInputSerializer,
        responses=write_responses(201, DonorSerializer),
        description="Register a donor: the server generates `donor_code`, which holds no name, birth date, SSN or "
        "MRN (21 CFR 1271.290); the identity stays on the patient side. `hla` not in allele notation is a 400. "
        "Coordinators, clinicians and integrations of the facility; closed to manufacturing (403).",
    ),
)
class DonorListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    serializer_class = DonorSerializer
    input_serializer_class = DonorInputSerializer
    permission_classes = PATIENT_DATA
    filterset_fields = ["eligibility", "donor_code"]

    def get_queryset(self) -> QuerySet:
        return _donors(self.request)

    def perform_service(self, data: dict[str, Any]) -> Model:
        identity = donor_register(actor=actor_of(self.request), **data)
        return _donors(self.request).get(pk=identity.pk)


class DonorDetail(generics.RetrieveAPIView):
    serializer_class = DonorSerializer
    permission_classes = PATIENT_DATA
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet:
        return _donors(self.request)


class DonorChildMixin(generics.GenericAPIView):
    """Views under `donors/{id}/`: the donor must be visible to the caller, or it is a 404."""

    def get_donor(self) -> Donor:
        if not hasattr(self, "_donor"):
            self._donor = get_object_or_404(_donors(self.request), pk=self.kwargs["id"])
        return self._donor


@extend_schema_view(
    post=extend_schema(
        request=DonorScreeningInputSerializer,
        responses=write_responses(201, DonorScreeningSerializer),
        description="Record a screening (21 CFR 1271.75) at the donor's facility, by the caller, on the date given: "
        "`history` (medical history interview and questionnaire) or `physical` (physical assessment).",
    )
)
class DonorScreeningListCreate(DonorChildMixin, ServiceCreateMixin, generics.ListCreateAPIView):
    serializer_class = DonorScreeningSerializer
    input_serializer_class = DonorScreeningInputSerializer
    permission_classes = PATIENT_DATA
    filterset_class = None

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return DonorScreening.objects.none()
        return self.get_donor().screenings.select_related("performed_by").order_by("performed_at", "id")

    def perform_service(self, data: dict[str, Any]) -> Model:
        return donor_screening_record(actor=actor_of(self.request), donor_id=self.get_donor().pk, **data)


@extend_schema_view(
    post=extend_schema(
        request=DonorTestInputSerializer,
        responses=write_responses(201, DonorTestSerializer),
        description="Record an infectious-disease test result with its specimen's date (`sampled_at`). A repeat "
        "adds a result, never replaces one. Which tests are required is the product's `required_donor_tests`.",
    )
)
class DonorTestListCreate(DonorChildMixin, ServiceCreateMixin, generics.ListCreateAPIView):
    serializer_class = DonorTestSerializer
    input_serializer_class = DonorTestInputSerializer
    permission_classes = PATIENT_DATA
    filterset_class = None

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return DonorTest.objects.none()
        return self.get_donor().tests.select_related("recorded_by").order_by("sampled_at", "id")

    def perform_service(self, data: dict[str, Any]) -> Model:
        return donor_test_record(actor=actor_of(self.request), donor_id=self.get_donor().pk, **data)


@extend_schema_view(
    get=extend_schema(description="The donor's determinations, newest first (the newest is `eligibility`)."),
    post=extend_schema(
        request=DeterminationInputSerializer,
        responses={
            **write_responses(201, DonorDeterminationSerializer),
            409: OpenApiResponse(
                description="`eligible` refused: `eligibility_incomplete` (a screening or a required test missing, "
                "or a test's specimen not taken within 7 days of a recovery, 30 days before for peripheral blood "
                "stem cells and marrow: 21 CFR 1271.80(b)), `reactive_test` (a result not negative; CMV excepted, "
                "1271.85(b)(2)), `screening_risk`. With `tests`: the tests concerned."
            ),
        },
        description="QA determines the donor `eligible` or `ineligible` with an electronic signature (21 CFR "
        "1271.50, 11.50): the signer re-enters their password. 403 `permission_denied` without the qa role itself "
        "(a superuser is not enough) or outside the facilities that hold the donor's records, "
        "`invalid_signature`, `signing_locked`. The signature keeps the screenings, tests and recoveries judged.",
    ),
)
class DonorDeterminationListCreate(DonorChildMixin, ServiceCreateMixin, generics.ListCreateAPIView):
    serializer_class = DonorDeterminationSerializer
    input_serializer_class = DeterminationInputSerializer
    permission_classes = PATIENT_DATA
    filterset_class = None

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return DonorDetermination.objects.none()
        return self.get_donor().determinations.select_related("donor", "signature__signer")

    def perform_service(self, data: dict[str, Any]) -> Model:
        return donor_determine(donor_id=self.get_donor().pk, signer=actor_of(self.request), **data)
