"""Encryption at rest (products.crypto): Fernet under FIELD_ENCRYPTION_KEYS, rotation, and the migration that
encrypted the secrets stored before."""

import importlib

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from products import crypto
from products.checks import encryption_keys_check
from tests.factories import FacilityFactory
from tracker.models import Webhook

pytestmark = pytest.mark.django_db

SECRET = "a-webhook-secret-of-forty-characters-000"
OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def column(hook_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM tracker_webhook WHERE id = %s", [hook_id])
        return cursor.fetchone()[0]


def make_hook() -> Webhook:
    return Webhook.objects.create(
        name="w", url="https://hooks.example.org/", secret=SECRET, facility=FacilityFactory(code="h")
    )


def test_a_key_is_rotated_by_putting_the_new_one_first_and_reencrypting(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    hook = make_hook()

    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    assert Webhook.objects.get(id=hook.id).secret == SECRET  # old tokens still read
    call_command("reencrypt_secrets")

    settings.FIELD_ENCRYPTION_KEYS = [NEW]  # the old key is gone
    assert Webhook.objects.get(id=hook.id).secret == SECRET
    assert Fernet(NEW.encode()).decrypt(column(hook.id).encode()).decode() == SECRET


def test_a_secret_under_an_unknown_key_is_an_error_not_a_fallback(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    hook = make_hook()
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        Webhook.objects.get(id=hook.id)


def test_a_malformed_key_is_a_system_check_error(settings):
    assert encryption_keys_check() == []
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    assert [e.id for e in encryption_keys_check()] == ["products.E001"]


def test_the_migration_encrypts_secrets_stored_in_plain_text_once():
    migration = importlib.import_module("tracker.migrations.0006_webhook_security")
    hook = make_hook()
    with connection.cursor() as cursor:  # as the column held it before the migration
        cursor.execute("UPDATE tracker_webhook SET secret = %s WHERE id = %s", ["plain-old-secret", hook.id])

    migration.encrypt_secrets(None, None)
    once = column(hook.id)
    migration.encrypt_secrets(None, None)  # run again: nothing changes

    assert "plain-old-secret" not in once and column(hook.id) == once
    assert crypto.decrypt(once) == "plain-old-secret"
    assert Webhook.objects.get(id=hook.id).secret == "plain-old-secret"


def test_the_migration_links_each_webhook_delivery_to_its_hook_by_the_url_it_was_raised_for():
    from django.apps import apps
    from django.utils import timezone

    from tracker.models import Notification, Reminder

    migration = importlib.import_module("tracker.migrations.0006_webhook_security")
    hook = make_hook()
    reminder = Reminder.objects.create(
        kind="unit_expiring", dedupe_key="m1", facility=hook.facility, due_at=timezone.now(), message="m"
    )
    known = Notification.objects.create(reminder=reminder, channel="webhook", recipient=hook.url)
    gone = Notification.objects.create(reminder=reminder, channel="webhook", recipient="https://gone.example.org/")

    migration.link_webhook_notifications(apps, None)

    known.refresh_from_db()
    gone.refresh_from_db()
    assert known.webhook_id == hook.id and known.status == "pending"
    assert gone.webhook_id is None and (gone.status, gone.last_error) == ("failed", "webhook no longer configured")
