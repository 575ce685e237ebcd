"""Django model permissions for the role groups, so that each role can work in the admin.

The admin checks these permissions; the services still check roles and facilities on every write,
so a permission here never lets anyone past a rule (it only shows them the page).
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
EDIT = (VIEW, ADD, CHANGE)

# The product side, without patient data.
PRODUCT_SIDE = [
    "products.facility",
    "products.monitoringprotocol",
    "products.protocolstep",
    "products.product",
    "products.releasetest",
    "products.chainofidentity",
    "products.collection",
    "products.batch",
    "products.processingstep",
    "products.qcresult",
    "products.signature",
    "products.unit",
    "products.custodyrecord",
]

# role -> {model label: actions}
GRANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "coordinator": {
        "products.facility": EDIT,
        "products.monitoringprotocol": EDIT,
        # Protocols are an editable rule set: a step may be removed as well as added.
        "products.protocolstep": (*EDIT, DELETE),
        "products.product": EDIT,
        "products.releasetest": EDIT,
        "products.chainofidentity": EDIT,
        "products.collection": EDIT,
        "products.batch": EDIT,
        "products.processingstep": EDIT,
        "products.qcresult": EDIT,
        "products.unit": EDIT,
        "products.custodyrecord": EDIT,
        "products.signature": (VIEW,),
        "tracker.patient": EDIT,
        "tracker.therapyorder": EDIT,
    },
    "qa": {
        **{label: (VIEW,) for label in PRODUCT_SIDE},
        # Release and rejection happen on the batch page; QA may also record QC results (the service allows it).
        "products.batch": (VIEW, CHANGE),
        "products.qcresult": (VIEW, ADD),
    },
    "manufacturing": {
        "products.batch": EDIT,
        "products.processingstep": EDIT,
        "products.qcresult": EDIT,
        "products.unit": EDIT,
        "products.custodyrecord": EDIT,
        "products.product": (VIEW,),
        "products.releasetest": (VIEW,),
        # To find the COI of incoming material and the sites a unit moves between; no patient data here.
        "products.chainofidentity": (VIEW,),
        "products.collection": (VIEW,),
        "products.facility": (VIEW,),
        "products.signature": (VIEW,),
    },
    "clinician": {
        "tracker.patient": (VIEW,),
        "tracker.therapyorder": (VIEW,),
        # Nurses receive, store and thaw bags at the treatment centre.
        "products.unit": (VIEW,),
        "products.custodyrecord": (VIEW, ADD),
    },
}


def grant_permissions(apps, schema_editor):
    # Permissions are normally created by post_migrate, i.e. after this migration: create them now.
    for label in ("products", "tracker"):
        create_permissions(global_apps.get_app_config(label), apps=apps, verbosity=0)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, grants in GRANTS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        wanted = []
        for label, actions in grants.items():
            app_label, model_name = label.split(".")
            for action in actions:
                wanted.append(
                    permission_model.objects.get(
                        content_type__app_label=app_label, codename=f"{action}_{model_name}"
                    )
                )
        group.permissions.add(*wanted)


def revoke_permissions(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, grants in GRANTS.items():
        group = group_model.objects.filter(name=role).first()
        if group is None:
            continue
        for label, actions in grants.items():
            app_label, model_name = label.split(".")
            group.permissions.remove(
                *permission_model.objects.filter(
                    content_type__app_label=app_label,
                    codename__in=[f"{action}_{model_name}" for action in actions],
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0004_standard_protocols"),
        ("tracker", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_permissions, revoke_permissions)]
