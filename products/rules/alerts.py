"""When a product-side condition becomes an alert: the time windows, and how urgent it is. Pure: no database.

products.alerts finds the units, batches and holds these windows catch; the operational windows come from
settings (read once, in products.alerts.alert_windows), the clinical one is fixed here.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from products.choices import Severity

# A thawed product is given within minutes to hours of thaw (the label's use-by time, e.g. 90 minutes for the
# demo CAR-T); half an hour before it the bedside still has time to infuse or to call for another bag.
USE_BY_WARNING = timedelta(minutes=30)


@dataclass(frozen=True)
class AlertWindows:
    """How far ahead (or how long after) a product-side condition is worth a reminder."""

    unit_expiry_warning: timedelta  # remind this long before a unit expires
    quarantine_alert: timedelta  # remind when a batch has waited in quarantine this long
    hold_open_alert: timedelta  # remind QA of a hold still undecided after this long
    use_by_warning: timedelta = USE_BY_WARNING


def expiry_severity(*, expires_at: datetime, now: datetime) -> Severity:
    """An expired unit is urgent (it must not be given); one that will expire soon is routine."""
    return Severity.URGENT if expires_at <= now else Severity.ROUTINE
