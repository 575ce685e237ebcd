"""Small helpers for filling admin forms."""

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone


def url(model: Any, view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def split_dt(name: str, value: datetime) -> dict[str, str]:
    """A datetime as the admin's split date and time widgets post it (in the display time zone)."""
    local = timezone.localtime(value)
    return {f"{name}_0": local.strftime("%Y-%m-%d"), f"{name}_1": local.strftime("%H:%M:%S")}
