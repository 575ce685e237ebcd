import pytest

pytestmark = pytest.mark.django_db


def test_home_redirects_anonymous_users_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_login_pages_render(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_login_then_home_lists_the_users_facilities(client, make_user):
    user = make_user()
    response = client.post("/accounts/login/", {"username": user.username, "password": "correct-horse-battery-staple"})
    assert response.status_code == 302

    home = client.get("/")
    assert home.status_code == 200
    assert b"City Hospital" in home.content


def test_staff_see_record_history_in_the_admin(client, make_user):
    coordinator = make_user("coordinator", is_superuser=True)
    client.force_login(coordinator)
    response = client.get("/admin/pghistory/events/")
    assert response.status_code == 200
