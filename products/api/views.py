from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from products.api.permissions import COORDINATION, roles_may_write
from products.api.serializers import FacilitySerializer, HealthSerializer, MeSerializer
from products.health import broker_ok, database_ok
from products.models import Facility


class HealthView(APIView):
    """Liveness and dependencies; the only endpoint that answers without credentials."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: HealthSerializer, 503: HealthSerializer})
    def get(self, request: Request) -> Response:
        database, broker = database_ok(), broker_ok()
        healthy = database and broker
        body = {"status": "ok" if healthy else "degraded", "database": database, "broker": broker}
        return Response(body, status=status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE)


class MeView(generics.RetrieveAPIView):
    """The caller: roles and facilities, so an integration can check what its token may do."""

    serializer_class = MeSerializer
    permission_classes = [IsAuthenticated]

    def get_object(self):  # type: ignore[no-untyped-def]
        return get_user_model().objects.prefetch_related("groups", "memberships__facility").get(pk=self.request.user.pk)


class FacilityListCreate(generics.ListCreateAPIView):
    """Facilities are reference data: every signed-in user may read them."""

    serializer_class = FacilitySerializer
    permission_classes = [IsAuthenticated, roles_may_write(*COORDINATION)]
    queryset = Facility.objects.all()
    filterset_fields = ["kind", "is_active"]


class FacilityDetail(generics.RetrieveAPIView):
    serializer_class = FacilitySerializer
    queryset = Facility.objects.all()
    lookup_field = "code"
