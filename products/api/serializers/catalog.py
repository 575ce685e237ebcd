"""Products of the catalogue with their release specification."""

from rest_framework import serializers

from products.api.serializers.fields import DecimalShape
from products.choices import DiseaseTest
from products.models import Facility, MonitoringProtocol, Product, ReleaseTest
from products.rules.hla import MAX_MATCHES

LIMIT: DecimalShape = {"max_digits": 20, "decimal_places": 6, "coerce_to_string": False}
TEMPERATURE: DecimalShape = {"max_digits": 5, "decimal_places": 1, "coerce_to_string": False}


class ReleaseTestSerializer(serializers.ModelSerializer):
    """One test of the release specification: numeric within `min`/`max`, or text equal to `expected`."""

    min = serializers.DecimalField(source="min_value", allow_null=True, **LIMIT)
    max = serializers.DecimalField(source="max_value", allow_null=True, **LIMIT)

    class Meta:
        model = ReleaseTest
        fields = ["test", "name", "unit", "min", "max", "expected"]


class ReleaseTestInputSerializer(serializers.Serializer):
    test = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    unit = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    min = serializers.DecimalField(required=False, allow_null=True, default=None, **LIMIT)
    max = serializers.DecimalField(required=False, allow_null=True, default=None, **LIMIT)
    expected = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


PRODUCT_FIELDS = [
    "code",
    "name",
    "modality",
    "source",
    "gene_modified",
    "regulatory_status",
    "ind_number",
    "trial_protocol",
    "cryopreserved",
    "shelf_life_days",
    "shelf_life_after_thaw_minutes",
    "storage_min_temp_c",
    "storage_max_temp_c",
    "dose_unit",
    "monitoring_protocol",
    "manufacturing_facility",
    "release_spec",
    "required_donor_tests",
    "hla_match_min",
]

REQUIRED_DONOR_TESTS_HELP = (
    "Allogeneic: the infectious-disease tests every donor needs (21 CFR 1271.85): at least hiv_1_2, hbv, hcv and "
    "syphilis (the default), plus htlv_1_2 and cmv for viable, leukocyte-rich cells and wnv where the product's "
    "rules say so. Autologous: empty (no donor eligibility determination, 21 CFR 1271.90(a)(1))."
)
HLA_MATCH_MIN_HELP = (
    f"Allele matches at HLA-A, -B, -C and -DRB1 a recipient needs with the unit's donor (0-{MAX_MATCHES}); 0: none "
    "needed (as for MSC). Checked at allocation (409 hla_mismatch)."
)


class ProductSerializer(serializers.ModelSerializer):
    monitoring_protocol = serializers.SlugRelatedField[MonitoringProtocol](slug_field="code", read_only=True)
    manufacturing_facility = serializers.SlugRelatedField[Facility](slug_field="code", read_only=True, allow_null=True)
    release_spec = ReleaseTestSerializer(many=True, read_only=True)
    storage_min_temp_c = serializers.DecimalField(allow_null=True, **TEMPERATURE)
    storage_max_temp_c = serializers.DecimalField(allow_null=True, **TEMPERATURE)
    required_donor_tests = serializers.ListField(
        child=serializers.ChoiceField(choices=DiseaseTest.choices), help_text=REQUIRED_DONOR_TESTS_HELP
    )
    hla_match_min = serializers.IntegerField(help_text=HLA_MATCH_MIN_HELP)

    class Meta:
        model = Product
        fields = [*PRODUCT_FIELDS, "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class ProductInputSerializer(serializers.ModelSerializer):
    """Field shapes come from the model (lengths, choices, ranges, unique code); rules from the service."""

    monitoring_protocol = serializers.SlugRelatedField(slug_field="code", queryset=MonitoringProtocol.objects.all())
    manufacturing_facility = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Facility.objects.all(),
        required=False,
        allow_null=True,
        help_text="The manufacturing site's code; its staff then see this product's chains.",
    )
    release_spec = ReleaseTestInputSerializer(many=True, allow_empty=False)
    storage_min_temp_c = serializers.DecimalField(required=False, allow_null=True, **TEMPERATURE)
    storage_max_temp_c = serializers.DecimalField(required=False, allow_null=True, **TEMPERATURE)
    required_donor_tests = serializers.ListField(
        child=serializers.ChoiceField(choices=DiseaseTest.choices), required=False, help_text=REQUIRED_DONOR_TESTS_HELP
    )
    hla_match_min = serializers.IntegerField(
        min_value=0, max_value=MAX_MATCHES, required=False, default=0, help_text=HLA_MATCH_MIN_HELP
    )

    class Meta:
        model = Product
        fields = PRODUCT_FIELDS
