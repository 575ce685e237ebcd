"""Encryption at rest for secrets the application must read back (webhook signing secrets).

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under the keys in FIELD_ENCRYPTION_KEYS: the first
key encrypts, every key decrypts, so a key is rotated by putting a new one first and running
`manage.py reencrypt_secrets` before the old one is removed. A database dump or backup alone reveals nothing.
"""

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS: each key is 32 url-safe base64-encoded bytes (Fernet.generate_key())."
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        # Never fall back to the stored text: it is ciphertext, or a value someone wrote around the application.
        raise ImproperlyConfigured("A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS.") from exc


def rotate(token: str) -> str:
    """The same secret under the first key (for key rotation)."""
    return fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """Text kept encrypted in its column and plain in Python. Encryption is randomised: no lookups by value."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)
