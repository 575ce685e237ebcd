from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from products.models import ApiToken
from products.services.tokens import token_hash, token_issue, token_revoke

pytestmark = pytest.mark.django_db


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_issue_token_prints_key_once_and_stores_only_its_hash(make_user, capsys):
    user = make_user()

    call_command("issue_token", user.username)

    key = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(user=user)
    assert key.startswith("vtv_") and len(key) > 40
    assert token.key_hash == token_hash(key)
    assert key not in {token.key_hash, token.prefix, token.name}
    assert _client(key).get("/api/v1/me/").status_code == 200


def test_token_authenticates_as_its_user(make_user):
    user = make_user()
    key = token_issue(user=user).key

    response = _client(key).get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json()["username"] == user.username
    assert response.json()["roles"] == ["clinician"]
    assert response.json()["facilities"] == ["city"]


def test_token_expires_after_its_ttl_default_90_days(make_user):
    user = make_user()
    issued = token_issue(user=user)
    assert issued.token.expires_at - issued.token.created_at == pytest.approx(
        timedelta(days=90), abs=timedelta(seconds=5)
    )

    with time_machine.travel(timezone.now() + timedelta(days=89), tick=False):
        assert _client(issued.key).get("/api/v1/me/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=90, seconds=5), tick=False):
        response = _client(issued.key).get("/api/v1/me/")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_issue_token_days_flag_sets_the_lifetime(make_user, capsys):
    user = make_user()
    call_command("issue_token", user.username, "--days", "7")
    key = capsys.readouterr().out.strip()
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1), tick=False):
        assert _client(key).get("/api/v1/me/").status_code == 401


def test_revoked_token_is_refused(make_user):
    issued = token_issue(user=make_user())
    assert _client(issued.key).get("/api/v1/me/").status_code == 200

    assert token_revoke(token_id=issued.token.id) is True
    assert token_revoke(token_id=issued.token.id) is False  # once only

    response = _client(issued.key).get("/api/v1/me/")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_revoke_token_command_by_prefix_and_by_user(make_user, capsys):
    user = make_user()
    first, second = token_issue(user=user), token_issue(user=user)

    call_command("revoke_token", first.token.prefix)
    assert _client(first.key).get("/api/v1/me/").status_code == 401
    assert _client(second.key).get("/api/v1/me/").status_code == 200

    call_command("revoke_token", "--user", user.username)
    assert _client(second.key).get("/api/v1/me/").status_code == 401


def test_unknown_token_and_inactive_user_are_refused(make_user):
    user = make_user()
    issued = token_issue(user=user)
    assert _client("vtv_not-a-real-key").get("/api/v1/me/").status_code == 401

    user.is_active = False
    user.save()
    assert _client(issued.key).get("/api/v1/me/").status_code == 401


def test_unauthenticated_api_answers_401_with_token_challenge(anon_client):
    response = anon_client.get("/api/v1/facilities/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_session_login_works_for_the_api(make_user, client):
    user = make_user()
    client.force_login(user)
    assert client.get("/api/v1/me/").status_code == 200
