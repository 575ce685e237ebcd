"""`webhooks/`: coordinators register endpoints for a facility of their own; https to public addresses only;
the secret is write-only, at least 32 characters, and encrypted at rest."""

import pytest
from django.db import connection

from products import crypto
from products.choices import Role
from tests.factories import UserFactory
from tracker.models import Webhook, WebhookEvent
from tracker.services.webhooks import webhook_create

pytestmark = pytest.mark.django_db

SECRET = "0123456789abcdef0123456789abcdef-hook"
PUBLIC_IP = "93.184.215.14"


@pytest.fixture
def hooks_dns(dns):
    dns["hooks.example.org"] = [PUBLIC_IP]
    dns["inside.example.org"] = ["10.20.30.40"]
    dns["mixed.example.org"] = [PUBLIC_IP, "192.168.0.9"]
    dns["metadata.example.org"] = ["169.254.169.254"]
    return dns


def body(world, **overrides):
    return {
        "name": "Ward board",
        "url": "https://hooks.example.org/tracker",
        "facility": world.hospital.code,
        "secret": SECRET,
        "is_active": True,
        **overrides,
    }


def stored_secret(hook_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM tracker_webhook WHERE id = %s", [hook_id])
        return cursor.fetchone()[0]


def test_a_coordinator_registers_a_webhook_whose_secret_is_never_shown_and_stored_encrypted(
    client_for, world, hooks_dns
):
    response = client_for(world.coordinator).post("/api/v1/webhooks/", body(world))

    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["url"] == "https://hooks.example.org/tracker" and answer["facility"] == world.hospital.code
    assert "secret" not in answer and SECRET not in response.content.decode()
    hook = Webhook.objects.get(id=answer["id"])
    assert hook.secret == SECRET  # the application reads it back
    column = stored_secret(hook.id)
    assert SECRET not in column and column.startswith("gAAAA")  # a Fernet token, not the secret
    assert crypto.decrypt(column) == SECRET
    # neither is it in the audit trail: the history table has no such column
    assert "secret" not in {f.name for f in WebhookEvent._meta.get_fields()}
    listed = client_for(world.coordinator).get("/api/v1/webhooks/").json()["results"]
    assert [h["id"] for h in listed] == [hook.id] and "secret" not in listed[0]


def test_the_column_holds_a_new_token_at_every_save(world, hooks_dns):
    hook = webhook_create(
        actor=world.coordinator, name="x", url="https://hooks.example.org/", secret=SECRET, facility=world.hospital
    )
    first = stored_secret(hook.id)
    hook.save()
    assert stored_secret(hook.id) != first  # randomised: equal secrets cannot be spotted in the table
    assert Webhook.objects.get(id=hook.id).secret == SECRET


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.org/tracker",  # not https
        "https://localhost/hook",
        "https://127.0.0.1/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
        "https://0.0.0.0/hook",
        "https://10.0.0.8/hook",
        "https://192.168.1.20/hook",
        "https://169.254.169.254/latest/meta-data/",  # cloud metadata
        "https://[fe80::1]/hook",
        "https://inside.example.org/hook",  # a name that resolves to a private address
        "https://mixed.example.org/hook",  # one public and one private answer: refused
        "https://metadata.example.org/hook",
        "https://nowhere.invalid/hook",  # does not resolve
        "https://user:password@hooks.example.org/hook",
    ],
)
def test_a_url_that_is_not_https_to_a_public_address_is_a_400_on_url(client_for, world, hooks_dns, url):
    response = client_for(world.coordinator).post("/api/v1/webhooks/", body(world, url=url))

    assert response.status_code == 400, response.content
    assert list(response.json()) == ["url"]
    assert not Webhook.objects.exists()


def test_the_refusal_says_why(client_for, world, hooks_dns):
    client = client_for(world.coordinator)
    inside = client.post("/api/v1/webhooks/", body(world, url="https://inside.example.org/")).json()["url"][0]
    assert "inside.example.org resolves to 10.20.30.40, which is a private address" in inside
    metadata = client.post("/api/v1/webhooks/", body(world, url="https://169.254.169.254/")).json()["url"][0]
    assert "link-local" in metadata
    plain = client.post("/api/v1/webhooks/", body(world, url="http://hooks.example.org/")).json()["url"][0]
    assert "https" in plain


@pytest.mark.parametrize("secret", ["", "short", "x" * 31, "y" * 257])
def test_a_secret_of_fewer_than_32_characters_is_a_400_on_secret(client_for, world, hooks_dns, secret):
    response = client_for(world.coordinator).post("/api/v1/webhooks/", body(world, secret=secret))
    assert response.status_code == 400
    assert "secret" in response.json()
    assert not Webhook.objects.exists()


def test_a_coordinator_registers_webhooks_only_for_a_facility_of_their_own(client_for, world, hooks_dns):
    client = client_for(world.coordinator)
    elsewhere = client.post("/api/v1/webhooks/", body(world, facility=world.other_hospital.code))
    everywhere = client.post("/api/v1/webhooks/", body(world, facility=None))

    assert elsewhere.status_code == 400 and "facility" in elsewhere.json()
    assert everywhere.status_code == 400 and "facility" in everywhere.json()
    assert not Webhook.objects.exists()


def test_a_superuser_may_register_a_webhook_for_every_facility(client_for, world, hooks_dns):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    response = client_for(root).post("/api/v1/webhooks/", body(world, facility=None))
    assert response.status_code == 201
    assert response.json()["facility"] is None


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.QA, Role.MANUFACTURING, Role.INTEGRATION])
def test_webhooks_are_for_coordinators_only(client_for, world, hooks_dns, role):
    user = UserFactory(roles=[role], facilities=[world.hospital])
    client = client_for(user)
    Webhook.objects.create(name="w", url="https://hooks.example.org/", secret=SECRET, facility=world.hospital)

    assert client.get("/api/v1/webhooks/").status_code == 403
    assert client.post("/api/v1/webhooks/", body(world)).status_code == 403
    assert Webhook.objects.count() == 1


def test_a_coordinator_sees_and_changes_only_their_facilities_webhooks(client_for, world, hooks_dns):
    theirs = Webhook.objects.create(
        name="theirs", url="https://hooks.example.org/x", secret=SECRET, facility=world.other_hospital
    )
    everywhere = Webhook.objects.create(name="all", url="https://hooks.example.org/y", secret=SECRET)
    client = client_for(world.coordinator)

    assert client.get("/api/v1/webhooks/").json()["results"] == []
    for hook in (theirs, everywhere):
        assert client.get(f"/api/v1/webhooks/{hook.id}/").status_code == 404
        assert client.patch(f"/api/v1/webhooks/{hook.id}/", {"is_active": False}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active


def test_patch_deactivates_renames_and_rechecks_a_new_url(client_for, world, hooks_dns):
    client = client_for(world.coordinator)
    hook_id = client.post("/api/v1/webhooks/", body(world)).json()["id"]

    off = client.patch(f"/api/v1/webhooks/{hook_id}/", {"is_active": False, "name": "Old board"})
    private = client.patch(f"/api/v1/webhooks/{hook_id}/", {"url": "https://inside.example.org/"})
    short = client.patch(f"/api/v1/webhooks/{hook_id}/", {"secret": "too-short"})
    new_secret = client.patch(f"/api/v1/webhooks/{hook_id}/", {"secret": SECRET[::-1]})

    assert off.status_code == 200 and (off.json()["is_active"], off.json()["name"]) == (False, "Old board")
    assert private.status_code == 400 and list(private.json()) == ["url"]
    assert short.status_code == 400 and "secret" in short.json()
    assert new_secret.status_code == 200 and "secret" not in new_secret.json()
    hook = Webhook.objects.get(id=hook_id)
    assert (hook.url, hook.secret) == ("https://hooks.example.org/tracker", SECRET[::-1])
    assert client.delete(f"/api/v1/webhooks/{hook_id}/").status_code == 405  # kept for the audit trail


def test_the_webhook_list_takes_a_bounded_number_of_queries(
    client_for, world, hooks_dns, django_assert_max_num_queries
):
    for n in range(5):
        Webhook.objects.create(name=f"w{n}", url="https://hooks.example.org/", secret=SECRET, facility=world.hospital)
    client = client_for(world.coordinator)
    client.get("/api/v1/webhooks/")  # warm the token's user caches like any later request

    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/webhooks/")
    assert len(response.json()["results"]) == 5


def test_the_schema_documents_the_webhook_resource(client_for, world):
    schema = client_for(world.coordinator).get("/api/schema/?format=json").json()
    operations = schema["paths"]["/api/v1/webhooks/"]
    assert {"get", "post"} <= set(operations)
    assert {"400", "403", "429"} <= set(operations["post"]["responses"])
    assert "patch" in schema["paths"]["/api/v1/webhooks/{id}/"]
    request = schema["components"]["schemas"]["WebhookInputRequest"]
    assert request["properties"]["secret"]["minLength"] == 32
    assert request["properties"]["secret"].get("writeOnly") is True
    assert "secret" not in schema["components"]["schemas"]["Webhook"]["properties"]
