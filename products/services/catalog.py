"""The product catalogue and release specifications."""

from decimal import Decimal
from typing import TypedDict

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from products.choices import DoseUnit, FacilityKind, Role
from products.models import Facility, MonitoringProtocol, Product, ReleaseTest
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
) -> Product:
    require_role(actor, *CATALOGUE_ROLES, action="add products")
    _validate_spec(release_spec)
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
    )
    _check_manufacturing_facility(product)
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
        ),
    )
    if changed:
        _check_manufacturing_facility(product)
        product.full_clean()
        product.save(update_fields=[*changed, "updated_at"])
    return product
