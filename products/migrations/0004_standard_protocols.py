"""The two monitoring protocols CONTRACT.md promises after `migrate`; editable in the admin afterwards."""

from django.db import migrations

# (kind, label, first_due (value, unit), repeat_every, repeat_until, grace_hours, severity)
CAR_T_STANDARD = [
    # FDA CAR-T labels (2025, REMS removed): monitor daily for at least 1 week, stay near the centre 2 weeks.
    ("toxicity_check", "Daily CRS/ICANS check with ICE score", (1, "days"), (1, "days"), (14, "days"), 6, "routine"),
    ("labs", "Labs day 1 (blood count, CRP, ferritin)", (1, "days"), None, None, 24, "routine"),
    ("labs", "Labs day 3 (blood count, CRP, ferritin)", (3, "days"), None, None, 24, "routine"),
    ("labs", "Labs day 7 (blood count, CRP, ferritin)", (7, "days"), None, None, 24, "routine"),
    ("labs", "Labs day 14 (blood count, CRP, ferritin)", (14, "days"), None, None, 24, "routine"),
    ("labs", "Labs day 28 (blood count, CRP, ferritin)", (28, "days"), None, None, 48, "routine"),
    # CIBMTR 15-year track for gene-modified products: forms at day 100, 6 months, 1 year, then yearly.
    ("follow_up_visit", "Follow-up visit day 28", (28, "days"), None, None, 7 * 24, "routine"),
    ("follow_up_visit", "Follow-up visit day 100", (100, "days"), None, None, 14 * 24, "routine"),
    ("follow_up_visit", "Follow-up visit month 6", (6, "months"), None, None, 30 * 24, "routine"),
    ("follow_up_visit", "Follow-up visit month 12", (12, "months"), None, None, 30 * 24, "routine"),
    ("follow_up_visit", "Yearly follow-up visit", (2, "years"), (1, "years"), (15, "years"), 60 * 24, "routine"),
    # FDA guidance on long-term follow-up after gene therapy: RCV testing after treatment.
    ("rcv_test", "RCV test month 3", (3, "months"), None, None, 30 * 24, "routine"),
    ("rcv_test", "RCV test month 6", (6, "months"), None, None, 30 * 24, "routine"),
    ("rcv_test", "RCV test month 12", (12, "months"), None, None, 30 * 24, "routine"),
    ("rcv_test", "Yearly RCV test", (2, "years"), (1, "years"), (15, "years"), 60 * 24, "routine"),
    # FDA boxed warning (2024): T-cell malignancies after CAR-T; monitor life-long.
    ("malignancy_screen", "Yearly secondary-malignancy screen", (1, "years"), (1, "years"), (15, "years"), 60 * 24,
     "routine"),
]

MSC_STANDARD = [
    ("infusion_reaction_check", "Infusion reaction check at 1 h", (1, "hours"), None, None, 1, "urgent"),
    ("infusion_reaction_check", "Infusion reaction check at 24 h", (24, "hours"), None, None, 6, "routine"),
    ("infection_check", "Daily infection check", (1, "days"), (1, "days"), (7, "days"), 12, "routine"),
    ("toxicity_check", "Daily toxicity check", (1, "days"), (1, "days"), (7, "days"), 12, "routine"),
    ("follow_up_visit", "Follow-up visit day 28", (28, "days"), None, None, 7 * 24, "routine"),
    ("follow_up_visit", "Follow-up visit day 100", (100, "days"), None, None, 14 * 24, "routine"),
    ("follow_up_visit", "Follow-up visit month 6", (6, "months"), None, None, 30 * 24, "routine"),
    ("follow_up_visit", "Follow-up visit month 12", (12, "months"), None, None, 30 * 24, "routine"),
    ("follow_up_visit", "Follow-up visit month 24", (24, "months"), None, None, 30 * 24, "routine"),
]

PROTOCOLS = {
    "car_t_standard": (
        "CAR-T standard monitoring",
        "Daily toxicity checks through day 14, labs, 15-year follow-up with RCV tests and malignancy screens.",
        CAR_T_STANDARD,
    ),
    "msc_standard": (
        "MSC standard monitoring",
        "Infusion reaction checks, daily infection and toxicity checks through day 7, follow-up to month 24.",
        MSC_STANDARD,
    ),
}


def create_protocols(apps, schema_editor):
    protocol_model = apps.get_model("products", "MonitoringProtocol")
    step_model = apps.get_model("products", "ProtocolStep")
    for code, (name, description, steps) in PROTOCOLS.items():
        protocol, created = protocol_model.objects.get_or_create(
            code=code, defaults={"name": name, "description": description}
        )
        if not created:
            continue
        for position, (kind, label, first, every, until, grace, severity) in enumerate(steps):
            step_model.objects.create(
                protocol=protocol,
                kind=kind,
                label=label,
                first_due_value=first[0],
                first_due_unit=first[1],
                repeat_every_value=every[0] if every else None,
                repeat_every_unit=every[1] if every else "",
                repeat_until_value=until[0] if until else None,
                repeat_until_unit=until[1] if until else "",
                grace_hours=grace,
                severity=severity,
                position=position,
            )


class Migration(migrations.Migration):
    dependencies = [("products", "0002_roles")]

    operations = [migrations.RunPython(create_protocols, migrations.RunPython.noop)]
