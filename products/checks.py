"""System checks of the security settings (`manage.py check`, and `check --deploy` for production)."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security)
def encryption_keys_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    from products.crypto import fernet

    try:
        fernet()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="products.E001")]
    return []


@register(Tags.security, deploy=True)
def no_test_allowances_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if getattr(settings, "WEBHOOK_TEST_ALLOW_LOOPBACK", False):
        return [
            Error(
                "WEBHOOK_TEST_ALLOW_LOOPBACK is on: webhooks could reach this host's own services.",
                hint="It is for tests only; production settings never set it.",
                id="products.E002",
            )
        ]
    return []
