"""The product catalogue and release specifications."""

from decimal import Decimal
from typing import Any, TypedDict

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from products.choices import FacilityKind, Role
from products.models import MonitoringProtocol, Product, ReleaseTest
from products.services.guards import require_role


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


@transaction.atomic
def product_create(
    *, actor: AbstractBaseUser, monitoring_protocol: MonitoringProtocol, release_spec: list[SpecTest], **fields: Any
) -> Product:
    require_role(actor, Role.COORDINATOR, Role.INTEGRATION, action="add products")
    _validate_spec(release_spec)
    product = Product(monitoring_protocol=monitoring_protocol, **fields)
    if product.manufacturing_facility is not None and product.manufacturing_facility.kind != FacilityKind.MANUFACTURING:
        raise ValidationError({"manufacturing_facility": ["Not a manufacturing facility."]})
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
