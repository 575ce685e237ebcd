"""Input and output serializers of the product-side API, one module per concept."""

from products.api.serializers.batches import (
    BatchInputSerializer,
    BatchSerializer,
    ProcessingStepSerializer,
    QCInvalidationInputSerializer,
    QCResultInputSerializer,
    QCResultSerializer,
    RejectInputSerializer,
    ReleaseInputSerializer,
    ReleaseReviewSerializer,
)
from products.api.serializers.catalog import ProductInputSerializer, ProductSerializer
from products.api.serializers.chains import CollectionInputSerializer, CollectionSerializer
from products.api.serializers.core import FacilitySerializer, HealthSerializer, MeSerializer
from products.api.serializers.errors import (
    DomainErrorSerializer,
    ErrorDetailSerializer,
    HoldErrorSerializer,
    QCErrorSerializer,
    ReleaseErrorSerializer,
)
from products.api.serializers.holds import HoldDecisionInputSerializer, HoldInputSerializer, HoldSerializer
from products.api.serializers.units import (
    CustodyRecordInputSerializer,
    CustodyRecordSerializer,
    UnitInputSerializer,
    UnitSerializer,
)

__all__ = [
    "BatchInputSerializer",
    "BatchSerializer",
    "CollectionInputSerializer",
    "CollectionSerializer",
    "CustodyRecordInputSerializer",
    "CustodyRecordSerializer",
    "DomainErrorSerializer",
    "ErrorDetailSerializer",
    "FacilitySerializer",
    "HealthSerializer",
    "HoldDecisionInputSerializer",
    "HoldErrorSerializer",
    "HoldInputSerializer",
    "HoldSerializer",
    "MeSerializer",
    "ProcessingStepSerializer",
    "ProductInputSerializer",
    "ProductSerializer",
    "QCErrorSerializer",
    "QCInvalidationInputSerializer",
    "QCResultInputSerializer",
    "QCResultSerializer",
    "RejectInputSerializer",
    "ReleaseErrorSerializer",
    "ReleaseInputSerializer",
    "ReleaseReviewSerializer",
    "UnitInputSerializer",
    "UnitSerializer",
]
