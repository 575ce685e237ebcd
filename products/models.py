"""Product side: facilities, user access and API tokens. Holds no patient health information."""

import pghistory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models

from products.choices import FacilityKind


@pghistory.track()
class Facility(models.Model):
    """A collection centre, manufacturing site or treatment centre."""

    code = models.SlugField(max_length=32, unique=True, help_text="Stable reference used by the API.")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=FacilityKind.choices)
    # ISBT 128 facility identification number (FIN), 5 characters; prefixes DINs and COIs.
    fin = models.CharField("ISBT 128 FIN", max_length=5, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "facilities"

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


@pghistory.track()
class FacilityMembership(models.Model):
    """A user's access to one facility: users see only their facilities' records."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="memberships")
    on_call = models.BooleanField(default=False, help_text="Receives escalated monitoring reminders.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "facility"], name="membership_unique_user_facility")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.facility.code}"


@pghistory.track(exclude=["last_used_at"])
class ApiToken(models.Model):
    """An API token. Only a SHA-256 hash of the key is stored; the key is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, help_text="First characters of the key, to tell tokens apart.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


# Accounts are part of the audit trail too: who was given which role, who was deactivated.
UserEvent = pghistory.create_event_model(
    get_user_model(),
    exclude=["password", "last_login"],
    app_label="products",
    model_name="UserEvent",
    abstract=False,
)
UserGroupEvent = pghistory.create_event_model(
    get_user_model().groups.through, app_label="products", model_name="UserGroupEvent", abstract=False
)
