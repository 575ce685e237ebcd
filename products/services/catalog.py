"""The product catalogue and release specifications."""

from decimal import Decimal
from typing import TypedDict

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from products.choices import DiseaseTest, DoseUnit, FacilityKind, RegulatoryStatus, Role, Source
from products.models import Facility, MonitoringProtocol, Product, ReleaseTest
from products.rules.donors import BASE_TESTS
from products.rules.hla import MAX_MATCHES
from products.rules.stages import DEFAULT_STAGE_DAYS, STAGE_DAYS_FIELDS, Stage
from products.services.common import UNSET, Unset, given, model_update, refuse_unknown_fields
from products.services.guards import require_role

CATALOGUE_ROLES = (Role.COORDINATOR, Role.INTEGRATION)
# What may change once a product exists: descriptive and logistic settings. What the product *is* (code,
# modality, source, gene modification, cryopreservation) is fixed; every change is in the audit trail.
PRODUCT_EDITABLE = (
    "name",
    "is_active",
    "shelf_life_days",
    "shelf_life_after_thaw_minutes",
    "storage_min_temp_c",
    "storage_max_temp_c",
    "dose_unit",
    "monitoring_protocol",
    "manufacturing_facility",
    # A product's status changes with its licence (an investigational product licensed later): events already on
    # record keep the status their report clock followed.
    "regulatory_status",
    "ind_number",
    "trial_protocol",
    "required_donor_tests",
    "hla_match_min",
    *STAGE_DAYS_FIELDS,
)


class SpecTest(TypedDict, total=False):
    test: str
    name: str
    unit: str
    min: Decimal | None
    max: Decimal | None
    expected: str


def _validate_spec(spec: list[SpecTest]) -> None:
    if not spec:
        # Without a specification there would be nothing to pass, and any batch could be released.
        raise ValidationError({"release_spec": ["A product needs at least one release test."]})
    seen: set[str] = set()
    for index, item in enumerate(spec):
        where = f"release_spec[{index}]"
        if item["test"] in seen:
            raise ValidationError({"release_spec": [f"{where}: test {item['test']} appears twice."]})
        seen.add(item["test"])
        numeric = item.get("min") is not None or item.get("max") is not None
        if numeric and item.get("expected"):
            raise ValidationError({"release_spec": [f"{where}: give min/max or expected, not both."]})
        if not numeric and not item.get("expected"):
            raise ValidationError({"release_spec": [f"{where}: give min and/or max, or expected."]})
        low, high = item.get("min"), item.get("max")
        if low is not None and high is not None and low > high:
            raise ValidationError({"release_spec": [f"{where}: min is above max."]})


def _check_donor_rules(product: Product) -> None:
    """An allogeneic product tests every donor at least for the agents 21 CFR 1271.85(a) names; an autologous one
    needs no donor testing (1271.90(a)(1)) and no HLA match."""
    tests = product.required_donor_tests
    if not isinstance(tests, list) or not all(isinstance(test, str) for test in tests):
        raise ValidationError({"required_donor_tests": ["A list of test codes."]})
    unknown = sorted(set(tests) - set(DiseaseTest.values))
    if unknown or len(set(tests)) != len(tests):
        raise ValidationError({"required_donor_tests": [f"Each once, among {', '.join(DiseaseTest.values)}."]})
    if product.source == Source.ALLOGENEIC:
        missing = [test for test in BASE_TESTS if test not in tests]
        if missing:
            raise ValidationError(
                {"required_donor_tests": [f"Every donor is tested for {', '.join(BASE_TESTS)} (21 CFR 1271.85(a))."]}
            )
    elif tests or product.hla_match_min:
        field = "required_donor_tests" if tests else "hla_match_min"
        raise ValidationError({field: ["An autologous product has no donor to test or to match."]})
    if not 0 <= product.hla_match_min <= MAX_MATCHES:
        raise ValidationError({"hla_match_min": [f"From 0 to {MAX_MATCHES} allele matches (A, B, C, DRB1)."]})


def _ordered(tests: list[str]) -> list[str]:
    return [test for test in DiseaseTest.values if test in tests] + [t for t in tests if t not in DiseaseTest.values]


@refuse_unknown_fields
@transaction.atomic
def product_create(
    *,
    actor: User,
    monitoring_protocol: MonitoringProtocol,
    release_spec: list[SpecTest],
    code: str,
    name: str,
    modality: str,
    source: str,
    gene_modified: bool = False,
    cryopreserved: bool = True,
    shelf_life_days: int | None = None,
    shelf_life_after_thaw_minutes: int | None = None,
    storage_min_temp_c: Decimal | None = None,
    storage_max_temp_c: Decimal | None = None,
    dose_unit: str = DoseUnit.CELLS,
    manufacturing_facility: Facility | None = None,
    is_active: bool = True,
    regulatory_status: str = RegulatoryStatus.LICENSED,
    ind_number: str = "",
    trial_protocol: str = "",
    required_donor_tests: list[str] | None = None,
    hla_match_min: int = 0,
    stage_days_ordered: int = DEFAULT_STAGE_DAYS[Stage.ORDERED],
    stage_days_collected: int = DEFAULT_STAGE_DAYS[Stage.COLLECTED],
    stage_days_manufacturing: int = DEFAULT_STAGE_DAYS[Stage.MANUFACTURING],
    stage_days_quarantine: int = DEFAULT_STAGE_DAYS[Stage.QUARANTINE],
    stage_days_released: int = DEFAULT_STAGE_DAYS[Stage.RELEASED],
    stage_days_shipped: int = DEFAULT_STAGE_DAYS[Stage.SHIPPED],
    stage_days_at_site: int = DEFAULT_STAGE_DAYS[Stage.AT_SITE],
    stage_days_thawed: int = DEFAULT_STAGE_DAYS[Stage.THAWED],
    stage_days_administered: int = DEFAULT_STAGE_DAYS[Stage.ADMINISTERED],
) -> Product:
    """A product with its release specification. An allogeneic product's donors need at least the base tests
    (21 CFR 1271.85(a)): they are its `required_donor_tests` unless more are given."""
    require_role(actor, *CATALOGUE_ROLES, action="add products")
    _validate_spec(release_spec)
    if required_donor_tests is None:
        required_donor_tests = list(BASE_TESTS) if source == Source.ALLOGENEIC else []
    product = Product(
        monitoring_protocol=monitoring_protocol,
        code=code,
        name=name,
        modality=modality,
        source=source,
        gene_modified=gene_modified,
        cryopreserved=cryopreserved,
        shelf_life_days=shelf_life_days,
        shelf_life_after_thaw_minutes=shelf_life_after_thaw_minutes,
        storage_min_temp_c=storage_min_temp_c,
        storage_max_temp_c=storage_max_temp_c,
        dose_unit=dose_unit,
        manufacturing_facility=manufacturing_facility,
        is_active=is_active,
        regulatory_status=regulatory_status,
        ind_number=ind_number,
        trial_protocol=trial_protocol,
        required_donor_tests=_ordered(list(required_donor_tests)),
        hla_match_min=hla_match_min,
        stage_days_ordered=stage_days_ordered,
        stage_days_collected=stage_days_collected,
        stage_days_manufacturing=stage_days_manufacturing,
        stage_days_quarantine=stage_days_quarantine,
        stage_days_released=stage_days_released,
        stage_days_shipped=stage_days_shipped,
        stage_days_at_site=stage_days_at_site,
        stage_days_thawed=stage_days_thawed,
        stage_days_administered=stage_days_administered,
    )
    _check_manufacturing_facility(product)
    _check_donor_rules(product)
    product.full_clean()
    product.save()
    ReleaseTest.objects.bulk_create(
        ReleaseTest(
            product=product,
            test=item["test"],
            name=item.get("name", ""),
            unit=item.get("unit", ""),
            min_value=item.get("min"),
            max_value=item.get("max"),
            expected=item.get("expected") or "",
        )
        for item in release_spec
    )
    return product


def _check_manufacturing_facility(product: Product) -> None:
    if product.manufacturing_facility is not None and product.manufacturing_facility.kind != FacilityKind.MANUFACTURING:
        raise ValidationError({"manufacturing_facility": ["Not a manufacturing facility."]})


@refuse_unknown_fields
@transaction.atomic
def product_update(
    *,
    actor: User,
    product_id: int,
    name: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    shelf_life_days: int | Unset | None = UNSET,
    shelf_life_after_thaw_minutes: int | Unset | None = UNSET,
    storage_min_temp_c: Decimal | Unset | None = UNSET,
    storage_max_temp_c: Decimal | Unset | None = UNSET,
    dose_unit: str | Unset = UNSET,
    monitoring_protocol: MonitoringProtocol | Unset = UNSET,
    manufacturing_facility: Facility | Unset | None = UNSET,
    regulatory_status: str | Unset = UNSET,
    ind_number: str | Unset = UNSET,
    trial_protocol: str | Unset = UNSET,
    required_donor_tests: list[str] | Unset = UNSET,
    hla_match_min: int | Unset = UNSET,
    stage_days_ordered: int | Unset = UNSET,
    stage_days_collected: int | Unset = UNSET,
    stage_days_manufacturing: int | Unset = UNSET,
    stage_days_quarantine: int | Unset = UNSET,
    stage_days_released: int | Unset = UNSET,
    stage_days_shipped: int | Unset = UNSET,
    stage_days_at_site: int | Unset = UNSET,
    stage_days_thawed: int | Unset = UNSET,
    stage_days_administered: int | Unset = UNSET,
) -> Product:
    """Change what PRODUCT_EDITABLE lists of a product; the fields given are set, the model's rules checked."""
    require_role(actor, *CATALOGUE_ROLES, action="change products")
    product = Product.objects.select_for_update(of=("self",)).get(id=product_id)
    changed = model_update(
        instance=product,
        fields=PRODUCT_EDITABLE,
        data=given(
            name=name,
            is_active=is_active,
            shelf_life_days=shelf_life_days,
            shelf_life_after_thaw_minutes=shelf_life_after_thaw_minutes,
            storage_min_temp_c=storage_min_temp_c,
            storage_max_temp_c=storage_max_temp_c,
            dose_unit=dose_unit,
            monitoring_protocol=monitoring_protocol,
            manufacturing_facility=manufacturing_facility,
            regulatory_status=regulatory_status,
            ind_number=ind_number,
            trial_protocol=trial_protocol,
            required_donor_tests=_ordered(required_donor_tests)
            if isinstance(required_donor_tests, list)
            else required_donor_tests,
            hla_match_min=hla_match_min,
            stage_days_ordered=stage_days_ordered,
            stage_days_collected=stage_days_collected,
            stage_days_manufacturing=stage_days_manufacturing,
            stage_days_quarantine=stage_days_quarantine,
            stage_days_released=stage_days_released,
            stage_days_shipped=stage_days_shipped,
            stage_days_at_site=stage_days_at_site,
            stage_days_thawed=stage_days_thawed,
            stage_days_administered=stage_days_administered,
        ),
    )
    if changed:
        _check_manufacturing_facility(product)
        _check_donor_rules(product)
        product.full_clean()
        product.save(update_fields=[*changed, "updated_at"])
    return product
