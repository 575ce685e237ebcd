"""The whole journey, order to a thawed unit at the treatment facility, through the REST API only."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests import journey

pytestmark = pytest.mark.django_db


def at(**delta: float) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def test_order_to_thawed_unit_at_the_hospital_through_the_api_only(world, client_for):
    integration, clinician = client_for(world.integration), client_for(world.clinician)
    coordinator, manufacturing = client_for(world.coordinator), client_for(world.manufacturing)
    qa = client_for(world.qa)

    # the catalogue (an integration feeding products)
    product = integration.post(
        "/api/v1/products/",
        {
            "code": "cart-api",
            "name": "CAR-T via the API",
            "modality": "car_t",
            "source": "autologous",
            "gene_modified": True,
            "cryopreserved": True,
            "shelf_life_days": 180,
            "shelf_life_after_thaw_minutes": 90,
            "storage_max_temp_c": -120,
            "dose_unit": "cells",
            "monitoring_protocol": "car_t_standard",
            "release_spec": [
                {"test": "viability", "unit": "%", "min": 70},
                {"test": "sterility", "expected": "negative", "name": "Sterility (BacT/ALERT)"},
                {"test": "endotoxin", "unit": "EU/mL", "max": "5"},
            ],
        },
    )
    assert product.status_code == 201, product.json()
    assert [t["test"] for t in product.json()["release_spec"]] == ["endotoxin", "sterility", "viability"]

    # the clinician registers the patient and orders; the server allocates the COI
    patient = clinician.post(
        "/api/v1/patients/",
        {
            "mrn": "H-778812",
            "given_name": "Grace",
            "family_name": "Hopper",
            "birth_date": "1961-12-09",
            "sex": "female",
            "weight_kg": 64.5,
            "facility": "hospital",
        },
    )
    assert patient.status_code == 201, patient.json()
    order = clinician.post("/api/v1/orders/", {"patient": patient.json()["id"], "product": "cart-api"})
    assert order.status_code == 201, order.json()
    coi = order.json()["coi"]
    assert order.json()["status"] == "ordered" and "778812" not in coi

    # collection at the apheresis centre
    din = journey.make_din()
    collection = coordinator.post(
        "/api/v1/collections/",
        {
            "coi": coi,
            "din": din,
            "facility": "apheresis",
            "collected_at": at(days=20),
            "method": "apheresis",
            "volume_ml": 250,
            "cd3_cells": 4_000_000_000,
        },
    )
    assert collection.status_code == 201, collection.json()
    assert collection.json()["din"] == din

    # manufacturing: the MES starts the batch, the site records steps, a bag and QC
    batch = integration.post(
        "/api/v1/batches/", {"coi": coi, "lot_number": "LOT-API-1", "facility": "factory", "started_at": at(days=15)}
    )
    assert batch.status_code == 201, batch.json()
    batch_id = batch.json()["id"]
    for kind, days in [("activation", 15), ("transduction", 14), ("expansion", 13), ("cryopreservation", 5)]:
        step = manufacturing.post(
            f"/api/v1/batches/{batch_id}/steps/",
            {"kind": kind, "started_at": at(days=days), "ended_at": at(days=days - 1), "parameters": {"ok": True}},
        )
        assert step.status_code == 201, step.json()
    unit = manufacturing.post(
        "/api/v1/units/",
        {"unit_id": "BAG-API-1", "batch": batch_id, "dose_cells": 120_000_000, "volume_ml": 68.0},
    )
    assert unit.status_code == 201, unit.json()
    assert unit.json()["coi"] == coi and unit.json()["status"] == "manufactured"
    assert manufacturing.post(f"/api/v1/batches/{batch_id}/complete/").json()["status"] == "quarantine"
    for test, value in [("viability", 91.5), ("sterility", "negative"), ("endotoxin", "0.5")]:
        result = manufacturing.post(
            f"/api/v1/batches/{batch_id}/qc-results/", {"test": test, "value": value, "tested_at": at(days=3)}
        )
        assert result.status_code == 201, result.json()
        assert result.json()["passed"] is True

    # QA signs the release
    released = qa.post(
        f"/api/v1/batches/{batch_id}/release/", {"password": world.password, "meaning": "Released for infusion"}
    )
    assert released.status_code == 200, released.json()
    assert released.json()["status"] == "released"
    assert released.json()["release_signature"]["signer"] == "qa"
    assert released.json()["release_signature"]["statement"] == "Released for infusion"

    # custody: shipped by the factory, received, stored and thawed at the hospital
    custody = "/api/v1/units/BAG-API-1/custody/"
    for client, event, when, temperature in [
        (manufacturing, "shipped", at(hours=30), -150),
        (clinician, "received", at(hours=6), -150),
        (clinician, "stored", at(hours=5), -160),
        (clinician, "thawed", at(minutes=10), None),
    ]:
        body = {"event": event, "at": when, "facility": "hospital", "temperature_c": temperature}
        record = client.post(custody, body)
        assert record.status_code == 201, (event, record.json())

    # then: the hospital sees a thawed bag of its patient's order, with a use-by time
    bag = clinician.get("/api/v1/units/BAG-API-1/").json()
    assert bag["status"] == "thawed"
    assert bag["current_facility"] == "hospital"
    assert bag["temperature_excursion"] is False
    assert datetime.fromisoformat(bag["use_by"]) - datetime.fromisoformat(bag["thawed_at"]) == timedelta(minutes=90)
    log = clinician.get(custody).json()["results"]
    assert [(r["seq"], r["event"], r["from_facility"]) for r in log] == [
        (1, "shipped", "factory"),
        (2, "received", "factory"),
        (3, "stored", "hospital"),
        (4, "thawed", "hospital"),
    ]
    assert [r["recorded_by"] for r in log] == ["mfg", "doc", "doc", "doc"]
    assert clinician.get(f"/api/v1/orders/{coi}/").json()["status"] == "released"
    assert clinician.get(f"/api/v1/units/?coi={coi}").json()["results"][0]["unit_id"] == "BAG-API-1"
