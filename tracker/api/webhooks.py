"""`webhooks/`: coordinators register the endpoints that receive their facilities' reminders.

Writes go through tracker.services.webhooks (the URL and secret rules, shared with the admin). There is no
DELETE: a webhook is kept for the audit trail and its deliveries; `PATCH {"is_active": false}` stops it.
"""

from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from products.api.mixins import ServiceCreateMixin, actor_of
from products.api.permissions import roles_required
from products.api.views import write_responses
from products.choices import Role
from products.models import Facility
from tracker.models import Webhook
from tracker.selectors import webhooks_visible_to
from tracker.services.webhooks import SECRET_MAX_LENGTH, SECRET_MIN_LENGTH, webhook_create, webhook_update

URL_HELP = (
    "https only. A host that is or resolves to a loopback, private, link-local or otherwise reserved address is "
    "refused (400), when saved and again at every delivery. Deliveries follow no redirects."
)
SECRET_HELP = (
    f"Write-only, {SECRET_MIN_LENGTH} to {SECRET_MAX_LENGTH} characters: the key of the HMAC-SHA256 signature in "
    "the X-Tracker-Signature header. Stored encrypted; never shown again."
)


class WebhookSerializer(serializers.ModelSerializer):
    facility = serializers.SlugRelatedField[Facility](
        slug_field="code", read_only=True, allow_null=True, help_text="Null: every facility (superusers only)."
    )

    class Meta:
        model = Webhook
        fields = ["id", "name", "url", "facility", "is_active", "created_at"]
        read_only_fields = fields


class WebhookInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    url = serializers.URLField(max_length=200, help_text=URL_HELP)
    facility = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Facility.objects.all(),
        allow_null=True,
        help_text="The facility whose reminders this endpoint receives (one of yours).",
    )
    secret = serializers.CharField(
        write_only=True,
        min_length=SECRET_MIN_LENGTH,
        max_length=SECRET_MAX_LENGTH,
        trim_whitespace=False,
        help_text=SECRET_HELP,
    )
    is_active = serializers.BooleanField(default=True)


class WebhookPatchSerializer(WebhookInputSerializer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


COORDINATORS: list[type[BasePermission]] = [IsAuthenticated, roles_required(Role.COORDINATOR)]


@extend_schema_view(
    post=extend_schema(
        request=WebhookInputSerializer,
        responses=write_responses(201, WebhookSerializer),
        description="Register an endpoint for a facility of yours. " + URL_HELP,
    )
)
class WebhookListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    """Webhooks of the caller's facilities (coordinators; 403 for other roles)."""

    serializer_class = WebhookSerializer
    input_serializer_class = WebhookInputSerializer
    permission_classes = COORDINATORS

    def get_queryset(self) -> QuerySet:
        return webhooks_visible_to(self.request.user).order_by("name", "id")

    def perform_service(self, data: dict[str, Any]) -> Model:
        return webhook_create(actor=actor_of(self.request), **data)


@extend_schema_view(
    patch=extend_schema(
        request=WebhookPatchSerializer,
        responses=write_responses(200, WebhookSerializer),
        description="Change a webhook; `is_active: false` stops its deliveries. " + URL_HELP,
    )
)
class WebhookDetail(generics.RetrieveAPIView):
    serializer_class = WebhookSerializer
    permission_classes = COORDINATORS
    lookup_url_kwarg = "id"
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet:
        return webhooks_visible_to(self.request.user)

    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        hook = self.get_object()
        changes = WebhookPatchSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        webhook_update(actor=actor_of(request), webhook_id=hook.id, **changes.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=hook.pk)).data)
