"""The reference data of the data migrations is there in every test, transactional ones included (they flush
every table; tests/conftest.py gives them pytest-django's serialized rollback)."""

import pytest
from django.contrib.auth.models import Group

from products.choices import Role
from products.models import MonitoringProtocol


def _assert_reference_data() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)
    assert Group.objects.get(name="coordinator").permissions.filter(codename="add_patient").exists()
    assert set(MonitoringProtocol.objects.values_list("code", flat=True)) >= {"car_t_standard", "msc_standard"}
    assert MonitoringProtocol.objects.get(code="car_t_standard").steps.exists()


@pytest.mark.django_db
def test_reference_data_in_a_test_that_rolls_back():
    _assert_reference_data()


# Twice, with a write in between: the second run starts after the first one's flush.
@pytest.mark.parametrize("run", [1, 2])
@pytest.mark.django_db(transaction=True)
def test_reference_data_in_a_transactional_test_after_another_ones_flush(run):
    _assert_reference_data()
    Group.objects.create(name=f"scratch-{run}")
    if run == 1:  # the next run finds it back
        MonitoringProtocol.objects.filter(code="msc_standard").delete()


def test_reference_data_in_a_test_using_the_transactional_db_fixture(transactional_db):
    _assert_reference_data()
