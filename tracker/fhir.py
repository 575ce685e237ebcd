"""A patient's record as a FHIR R4 Bundle (type `collection`): for EHRs and registries.

Patient; BiologicallyDerivedProduct for each unit (bag) of the patient's chains, identified by its unit id,
its COI and the ISBT 128 DIN(s) of the collection(s) it was made from; Procedure for each infusion, pointing
at the unit; Observation for each assessment (the CRS and ICANS grades and every raw measurement as
components) and for each acute GVHD staging (the MAGIC overall grade, the organ stages, the findings and the
response as components); AdverseEvent (with the suspected product and, in a trial, the study); MedicationAdministration
for each toxicity intervention.

Codes: LOINC and SNOMED CT where a code exists for the measurement, HL7 terminology for the FHIR value sets,
and a local code system under `SYSTEM_BASE` for what has no standard code (ASTCT grades, the ICE score).
Full URLs are `urn:uuid:` names derived from the record, so the same record has the same name in every export.
One query per kind of record, however long the story. Codes of a finite set are built once and shared between
resources: a bundle is read-only once built (it is only ever rendered).
"""

import uuid
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from django.conf import settings
from django.db.models import Field, Model
from django.utils import timezone, translation

from products.choices import Source, UnitStatus
from products.models import Collection, ProcessingStep, Unit
from products.selectors import donor_code_of, unit_label_warnings, with_donation
from tracker.models import Administration, AdverseEvent, Assessment, FollowUpVisit, Intervention, Patient
from tracker.rules import gvhd as gvhd_rules
from tracker.rules.grading import CAPD_SCORE, ICE_MAX

# A namespace of this project for what has no standard code. Deployments may set FHIR_SYSTEM_BASE to a URL
# they own; the default is reserved (RFC 2606 `.invalid`) so it can never be mistaken for a real server.
SYSTEM_BASE: str = getattr(settings, "FHIR_SYSTEM_BASE", "https://vein-to-vein-tracker.invalid/fhir")

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
# HL7 terminology: ISBT 128 is OID 2.16.840.1.113883.6.18 (http://terminology.hl7.org/CodeSystem/ib).
ISBT128 = "urn:oid:2.16.840.1.113883.6.18"
MEDDRA = "http://terminology.hl7.org/CodeSystem/mdr"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
AE_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
# R4 Procedure.usedReference cannot point at a BiologicallyDerivedProduct; HL7's transfusion adverse event
# IG (icsr-ae-reporting, R4) defines this extension on usedReference to do exactly that.
USED_PRODUCT = "http://hl7.org/fhir/us/icsr-ae-reporting/StructureDefinition/icsr-ext-usedproduct"
# R5 elements in R4 (HL7 cross-version extensions): the collection's identifier (DIN) and the expiry.
XVER_SOURCE_EVENT = (
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-BiologicallyDerivedProduct.biologicalSourceEvent"
)
XVER_EXPIRATION = "http://hl7.org/fhir/5.0/StructureDefinition/extension-BiologicallyDerivedProduct.expirationDate"
IV_ROUTE = {"system": SNOMED, "code": "47625008", "display": "Intravenous route"}


def local(name: str) -> str:
    """A local CodeSystem or NamingSystem URI of this project."""
    return f"{SYSTEM_BASE}/{name}"


_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, SYSTEM_BASE)


def full_url(kind: str, pk: object) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}/{pk}')}"


def _ref(kind: str, pk: object, display: str | None = None) -> dict[str, str]:
    ref = {"reference": full_url(kind, pk)}
    if display:
        ref["display"] = display
    return ref


def _when(value: datetime) -> str:
    return value.isoformat()


def _local_code(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": local(f"CodeSystem/{system}"), "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding], "text": display or code}


@cache
def _fixed_code(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    """A code of a finite set (a measurement, a choice): built once and shared by every resource that carries it."""
    return _local_code(system, code, display)


@cache
def _choice_labels(model: type[Model], field_name: str, language: str | None) -> dict[Any, str]:
    """A field's choice labels in one language (the labels are translatable)."""
    field = model._meta.get_field(field_name)
    assert isinstance(field, Field)  # a concrete column with choices
    return {value: str(label) for value, label in field.flatchoices}


def _display(instance: Model, field_name: str) -> str:
    """What get_FOO_display() says, from a mapping built once: Django rebuilds it on every call, which took most of
    a 5,000-assessment export (make bench, pyinstrument)."""
    value = getattr(instance, field_name)
    return _choice_labels(type(instance), field_name, translation.get_language()).get(value, str(value))


def _quantity(value: Decimal | int | float, unit: str, ucum: str) -> dict[str, Any]:
    return {"value": float(value), "unit": unit, "system": UCUM, "code": ucum}


def _who(user: Any) -> str:
    return user.get_full_name() or user.get_username()


# ---------------------------------------------------------------------------------------------------------


def _patient(patient: Patient) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": f"patient-{patient.id}",
        "identifier": [
            {
                "use": "usual",
                "type": {"coding": [{"system": V2_0203, "code": "MR"}], "text": "Medical record number"},
                "system": local(f"NamingSystem/mrn/{patient.facility.code}"),
                "value": patient.mrn,
                "assigner": {"display": patient.facility.name},
            }
        ],
        "name": [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}],
        # FHIR administrative gender has the same four values as Patient.sex.
        "gender": patient.sex,
        "birthDate": patient.birth_date.isoformat(),
        "managingOrganization": {"display": patient.facility.name},
    }


def _product(
    unit: Unit, patient: Patient, collections: list[Collection], steps: list[ProcessingStep]
) -> dict[str, Any]:
    product = unit.batch.product
    identifiers: list[dict[str, Any]] = [
        {"system": local("NamingSystem/unit-id"), "value": unit.unit_id, "type": {"text": "Unit (bag) identifier"}},
    ]
    if unit.chain is not None:
        identifiers.append(
            {"system": local("NamingSystem/coi"), "value": unit.chain.coi, "type": {"text": "Chain of identity"}}
        )
    extensions: list[dict[str, Any]] = []
    for c in collections:
        din = {"system": ISBT128, "value": c.din, "type": {"text": "ISBT 128 donation identification number"}}
        identifiers.append(din)
        extensions.append({"url": XVER_SOURCE_EVENT, "valueIdentifier": din})
    extensions.append({"url": XVER_EXPIRATION, "valueDateTime": _when(unit.expires_at)})
    donor_code = donor_code_of(unit)
    if donor_code is not None:
        # An allogeneic unit: its donor by code only (21 CFR 1271.290); who the donor is stays out of the export.
        identifiers.append(
            {"system": local("NamingSystem/donor-code"), "value": donor_code, "type": {"text": "Donor code"}}
        )
    for warning in unit_label_warnings(unit):
        extensions.append({"url": local("StructureDefinition/label-statement"), "valueString": warning})
    used = unit.status in (UnitStatus.ADMINISTERED, UnitStatus.DISCARDED)
    resource: dict[str, Any] = {
        "resourceType": "BiologicallyDerivedProduct",
        "id": f"unit-{unit.id}",
        "extension": extensions,
        "identifier": identifiers,
        "productCategory": "cells",
        "productCode": _local_code("product", product.code, product.name),
        "status": "unavailable" if used else "available",
        "quantity": 1,
        "processing": [
            {"description": _display(step, "kind"), "timeDateTime": _when(step.started_at)} for step in steps
        ],
    }
    if collections:
        first = min(collections, key=lambda c: c.collected_at)
        collection: dict[str, Any] = {"collectedDateTime": _when(first.collected_at)}
        if product.source == Source.AUTOLOGOUS:
            collection["source"] = _ref("Patient", patient.id)
        resource["collection"] = collection
    if product.gene_modified:
        resource["manipulation"] = {"description": "Genetically modified"}
    if product.storage_max_temp_c is not None:
        resource["storage"] = [
            {
                "description": f"At or below {product.storage_max_temp_c} °C",
                "temperature": float(product.storage_max_temp_c),
                "scale": "celsius",
            }
        ]
    return resource


def _procedure(administration: Administration, patient: Patient) -> dict[str, Any]:
    unit = administration.unit
    product = unit.batch.product
    notes = [f"Dose {administration.dose_cells} cells"]
    if administration.dose_cells_per_kg:
        notes.append(f"{administration.dose_cells_per_kg} cells/kg at {administration.weight_kg} kg")
    if administration.premedication:
        notes.append(f"Premedication: {administration.premedication}")
    if administration.note:
        notes.append(administration.note)
    if administration.voided_at:
        notes.append(f"Entered in error: {administration.void_reason}")
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": f"administration-{administration.id}",
        "status": "entered-in-error" if administration.voided_at else "completed",
        "code": _local_code(
            "procedure",
            f"cell-therapy-{administration.route}",
            f"{_display(administration, 'route')} of {product.name}",
        ),
        "subject": _ref("Patient", patient.id),
        "performedDateTime": _when(administration.administered_at),
        "performer": [{"actor": {"display": _who(administration.administered_by)}}],
        "usedReference": [
            {
                "extension": [{"url": USED_PRODUCT, "valueReference": _ref("BiologicallyDerivedProduct", unit.id)}],
                "display": f"{product.name}, unit {unit.unit_id}",
            }
        ],
        "note": [{"text": text} for text in notes],
    }
    if administration.infusion_reaction:
        resource["complication"] = [{"text": administration.infusion_reaction}]
    return resource


# Assessment measurements: (field, code, unit label, UCUM code).
LOINC_MEASUREMENTS = [
    ("temperature_c", {"system": LOINC, "code": "8310-5", "display": "Body temperature"}, "°C", "Cel"),
    ("heart_rate", {"system": LOINC, "code": "8867-4", "display": "Heart rate"}, "/min", "/min"),
    ("systolic_bp", {"system": LOINC, "code": "8480-6", "display": "Systolic blood pressure"}, "mmHg", "mm[Hg]"),
    ("diastolic_bp", {"system": LOINC, "code": "8462-4", "display": "Diastolic blood pressure"}, "mmHg", "mm[Hg]"),
    ("respiratory_rate", {"system": LOINC, "code": "9279-1", "display": "Respiratory rate"}, "/min", "/min"),
    (
        "spo2",
        {"system": LOINC, "code": "59408-5", "display": "Oxygen saturation in Arterial blood by Pulse oximetry"},
        "%",
        "%",
    ),
    ("oxygen_l_min", {"system": LOINC, "code": "3151-8", "display": "Inhaled oxygen flow rate"}, "L/min", "L/min"),
    (
        "crp_mg_l",
        {"system": LOINC, "code": "1988-5", "display": "C reactive protein [Mass/volume] in Serum or Plasma"},
        "mg/L",
        "mg/L",
    ),
    (
        "ferritin_ng_ml",
        {"system": LOINC, "code": "2276-4", "display": "Ferritin [Mass/volume] in Serum or Plasma"},
        "ng/mL",
        "ng/mL",
    ),
]
LOCAL_QUANTITIES = [("il6_pg_ml", "il-6", "Interleukin 6", "pg/mL", "pg/mL")]
LOCAL_CODED = [
    ("hypotension", "hypotension", "Hypotension (ASTCT 2019 CRS)"),
    ("hypoxia", "hypoxia", "Hypoxia (ASTCT 2019 CRS)"),
    ("consciousness", "consciousness", "Depressed level of consciousness (ASTCT 2019 ICANS)"),
    ("seizure", "seizure", "Seizure (ASTCT 2019 ICANS)"),
    ("cerebral_edema", "cerebral-edema", "Raised intracranial pressure / cerebral edema (ASTCT 2019 ICANS)"),
]


def _component(code: dict[str, Any], **value: Any) -> dict[str, Any]:
    return {"code": code, **value}


# An assessment's codes, built once: an export carries thousands of assessments, each with a dozen coded components.
_MEASURE = "assessment-measurement"
_CRS_GRADE = _local_code(_MEASURE, "crs-grade", "CRS grade (ASTCT 2019)")
_ICANS_GRADE = _local_code(_MEASURE, "icans-grade", "ICANS grade (ASTCT 2019)")
_FEVER_MASKED = _local_code(_MEASURE, "fever-masked", "Fever masked by antipyretic or anti-cytokine therapy")
_MOTOR_WEAKNESS = _local_code(_MEASURE, "motor-weakness", "Deep focal motor weakness")
_ICE_SCORE = _local_code(_MEASURE, "ice-score", f"ICE score (0-{ICE_MAX})")
_CAPD_SCORE = _local_code(_MEASURE, "capd-score", f"CAPD score (0-{CAPD_SCORE.high}), children under 12")
_CODED = [(field_name, code, _local_code(_MEASURE, code, label)) for field_name, code, label in LOCAL_CODED]
_LOINC = [
    (field_name, {"coding": [coding], "text": coding["display"]}, unit, ucum)
    for field_name, coding, unit, ucum in LOINC_MEASUREMENTS
]
_LOCAL_QUANTITIES = [
    (field_name, _local_code(_MEASURE, code, label), unit, ucum)
    for field_name, code, label, unit, ucum in LOCAL_QUANTITIES
]
_EXAM = [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "exam", "display": "Exam"}]}]
_ASSESSMENT = _local_code("observation", "crs-icans-assessment", "CRS and ICANS assessment (ASTCT 2019)")


def _observation(a: Assessment, subject: dict[str, str]) -> dict[str, Any]:
    """An assessment as an Observation; `subject` is the patient's reference (the same for every one)."""
    components: list[dict[str, Any]] = [
        {"code": _CRS_GRADE, "valueInteger": a.crs_grade},
        {"code": _ICANS_GRADE, "valueInteger": a.icans_grade},
        {"code": _FEVER_MASKED, "valueBoolean": a.fever_masked},
        {"code": _MOTOR_WEAKNESS, "valueBoolean": a.motor_weakness},
    ]
    if a.ice_score is not None:
        components.append({"code": _ICE_SCORE, "valueInteger": a.ice_score})
    if a.capd_score is not None:
        components.append({"code": _CAPD_SCORE, "valueInteger": a.capd_score})
    for field_name, code, measurement in _CODED:
        value = getattr(a, field_name)
        components.append(
            {"code": measurement, "valueCodeableConcept": _fixed_code(code, value, _display(a, field_name))}
        )
    for field_name, measurement, unit, ucum in _LOINC:
        value = getattr(a, field_name)
        if value is not None:
            components.append({"code": measurement, "valueQuantity": _quantity(value, unit, ucum)})
    for field_name, measurement, unit, ucum in _LOCAL_QUANTITIES:
        value = getattr(a, field_name)
        if value is not None:
            components.append({"code": measurement, "valueQuantity": _quantity(value, unit, ucum)})
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"assessment-{a.id}",
        "status": "final",
        "category": _EXAM,
        "code": _ASSESSMENT,
        "subject": subject,
        "effectiveDateTime": _when(a.assessed_at),
        "issued": _when(a.created_at),
        "performer": [{"display": _who(a.assessed_by)}],
        "component": components,
    }
    if a.note:
        resource["note"] = [{"text": a.note}]
    return resource


BILIRUBIN = {"system": LOINC, "code": "1975-2", "display": "Bilirubin.total [Mass/volume] in Serum or Plasma"}
GVHD_STAGES = [
    ("gvhd_skin_stage", "skin-stage", "Acute GVHD skin stage (MAGIC)"),
    ("gvhd_liver_stage", "liver-stage", "Acute GVHD liver stage (MAGIC)"),
    ("gvhd_upper_gi_stage", "upper-gi-stage", "Acute GVHD upper GI stage (MAGIC)"),
    ("gvhd_lower_gi_stage", "lower-gi-stage", "Acute GVHD lower GI stage (MAGIC)"),
]


def _gvhd_observation(v: FollowUpVisit, patient: Patient) -> dict[str, Any]:
    """The acute GVHD staging of a follow-up visit: the overall grade as the value (0-4 for 0-IV, MAGIC criteria,
    Harris et al. BBMT 2016), the organ stages, the raw findings and the response as components."""
    assert v.gvhd_grade is not None
    measure = "gvhd-measurement"
    components: list[dict[str, Any]] = [
        _component(_fixed_code(measure, code, label), valueInteger=getattr(v, field))
        for field, code, label in GVHD_STAGES
    ]
    components += [
        _component(
            _fixed_code(measure, "skin-rash-bsa", "Active GVHD rash, % body surface area"),
            valueQuantity=_quantity(v.gvhd_skin_bsa_pct or 0, "%", "%"),
        ),
        _component(
            _fixed_code(measure, "skin-bullae", "Bullous formation and desquamation > 5% BSA"),
            valueBoolean=v.gvhd_skin_bullae,
        ),
        _component(
            {"coding": [BILIRUBIN], "text": BILIRUBIN["display"]},
            valueQuantity=_quantity(v.gvhd_bilirubin_mg_dl or 0, "mg/dL", "mg/dL"),
        ),
        _component(
            _fixed_code(measure, "upper-gi-persistent", "Persistent nausea, vomiting or anorexia"),
            valueBoolean=v.gvhd_upper_gi_persistent,
        ),
        _component(
            _fixed_code(measure, "lower-gi-severe", "Severe abdominal pain, ileus or grossly bloody stool"),
            valueBoolean=v.gvhd_lower_gi_severe,
        ),
    ]
    if v.gvhd_stool_ml_per_day is not None:
        components.append(
            _component(
                _fixed_code(measure, "stool-volume", "Stool output per day"),
                valueQuantity=_quantity(v.gvhd_stool_ml_per_day, "mL/d", "mL/d"),
            )
        )
    if v.gvhd_stool_episodes_per_day is not None:
        components.append(
            _component(
                _fixed_code(measure, "stool-episodes", "Stool episodes per day"),
                valueQuantity=_quantity(v.gvhd_stool_episodes_per_day, "/d", "/d"),
            )
        )
    if v.gvhd_response:
        components.append(
            _component(
                _fixed_code(measure, "response", f"Response at day {v.gvhd_response_day} (Martin et al. 2009)"),
                valueCodeableConcept=_fixed_code("gvhd-response", v.gvhd_response, _display(v, "gvhd_response")),
            )
        )
    grade = gvhd_rules.ROMAN[v.gvhd_grade]
    return {
        "resourceType": "Observation",
        "id": f"gvhd-{v.id}",
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "exam", "display": "Exam"}]}],
        "code": _fixed_code("observation", "acute-gvhd-grade", "Acute GVHD overall grade (MAGIC, Harris 2016)"),
        "subject": _ref("Patient", patient.id),
        "effectiveDateTime": v.visit_date.isoformat(),
        "issued": _when(v.created_at),
        "performer": [{"display": _who(v.recorded_by)}],
        "valueCodeableConcept": {
            "coding": [
                {"system": local("CodeSystem/acute-gvhd-grade"), "code": str(v.gvhd_grade), "display": f"Grade {grade}"}
            ],
            "text": f"Acute GVHD grade {grade}",
        },
        "component": components,
    }


def _ae_severity(grade: int) -> str:
    # CTCAE v5 grades 1 mild, 2 moderate, 3+ severe (the exact grade is in the extension beside it).
    return "mild" if grade == 1 else "moderate" if grade == 2 else "severe"


AE_OUTCOMES = {
    "ongoing": "ongoing",
    "resolved": "resolved",
    "resolved_with_sequelae": "resolvedWithSequelae",
    "fatal": "fatal",
    "unknown": "unknown",
}


def _adverse_event(e: AdverseEvent, patient: Patient, infusions: list[Administration]) -> dict[str, Any]:
    event: dict[str, Any] = {"text": e.term_text or _display(e, "term")}
    codings = []
    if e.meddra_code:
        codings.append({"system": MEDDRA, "code": e.meddra_code})
    codings.append({"system": local("CodeSystem/adverse-event-term"), "code": e.term, "display": _display(e, "term")})
    event["coding"] = codings
    if e.description:
        event["text"] = f"{event['text']}: {e.description}"
    extensions: list[dict[str, Any]] = [
        {"url": local("StructureDefinition/adverse-event-grade"), "valueInteger": e.grade},
        {
            "url": local("StructureDefinition/adverse-event-grading-system"),
            "valueString": _display(e, "grading_system"),
        },
    ]
    if e.resolved_at:
        extensions.append(
            {"url": local("StructureDefinition/adverse-event-resolved"), "valueDateTime": _when(e.resolved_at)}
        )
    if e.report_due_at:
        extensions.append({"url": local("StructureDefinition/report-due"), "valueDateTime": _when(e.report_due_at)})
    extensions.append({"url": local("StructureDefinition/suspected-adverse-reaction"), "valueBoolean": e.suspected})
    resource: dict[str, Any] = {
        "resourceType": "AdverseEvent",
        "id": f"adverse-event-{e.id}",
        "extension": extensions,
        "actuality": "actual",
        "event": event,
        "subject": _ref("Patient", patient.id),
        "date": _when(e.onset_at),
        "detected": _when(e.aware_at),
        "recordedDate": _when(e.created_at),
        "seriousness": {
            "coding": [
                {"system": AE_SERIOUSNESS, "code": "serious", "display": "Serious"}
                if e.serious
                else {"system": AE_SERIOUSNESS, "code": "non-serious", "display": "Non-serious"}
            ]
        },
        "severity": {"coding": [{"system": AE_SEVERITY, "code": _ae_severity(e.grade)}]},
        "outcome": {"coding": [{"system": AE_OUTCOME, "code": AE_OUTCOMES.get(e.outcome, "unknown")}]},
    }
    if e.trial_protocol or e.ind_number:
        # R4 AdverseEvent.study: the research study the event happened in (here by its protocol and IND/CTA).
        study = f"Protocol {e.trial_protocol}" if e.trial_protocol else "Clinical investigation"
        resource["study"] = [{"display": f"{study} (IND/CTA {e.ind_number})" if e.ind_number else study}]
    course = [a for a in infusions if e.order_id is None or a.order_id == e.order_id]
    suspects = [a for a in course if a.voided_at is None and a.administered_at <= e.onset_at]
    if suspects:
        resource["suspectEntity"] = [
            {
                "instance": _ref("Procedure", a.id, f"Infusion of unit {a.unit.unit_id}"),
                "causality": [{"assessment": _fixed_code("relatedness", e.relatedness, _display(e, "relatedness"))}],
            }
            for a in suspects
        ]
    return resource


def _medication_administration(i: Intervention, patient: Patient) -> dict[str, Any]:
    dosage: dict[str, Any] = {}
    dose = f"{i.dose.normalize():f}" if i.dose is not None else ""
    text = " ".join(part for part in (dose, i.dose_unit, i.route) if part)
    if text:
        dosage["text"] = text
    if i.route:
        dosage["route"] = (
            {"coding": [IV_ROUTE], "text": i.route} if i.route.lower() in {"iv", "intravenous"} else {"text": i.route}
        )
    if i.dose is not None:
        dosage["dose"] = {"value": float(i.dose), "unit": i.dose_unit} if i.dose_unit else {"value": float(i.dose)}
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": f"intervention-{i.id}",
        "status": "completed",
        "medicationCodeableConcept": {
            "coding": [{"system": local("CodeSystem/intervention"), "code": i.kind, "display": _display(i, "kind")}],
            "text": i.drug,
        },
        "subject": _ref("Patient", patient.id),
        "effectiveDateTime": _when(i.given_at),
        "performer": [{"actor": {"display": _who(i.given_by)}}],
        "reasonCode": [_fixed_code("indication", i.indication, _display(i, "indication"))],
    }
    if dosage:
        resource["dosage"] = dosage
    if i.note:
        resource["note"] = [{"text": i.note}]
    return resource


def patient_fhir_bundle(*, patient: Patient, now: datetime | None = None) -> dict[str, Any]:
    """The patient's record as a FHIR R4 `collection` Bundle (a plain dict, ready for JSON)."""
    now = now or timezone.now()
    units = list(
        with_donation(Unit.objects.filter(chain__order__patient=patient))
        .select_related("batch__product", "chain")
        .order_by("created_at", "id")
    )
    # Keyed by chain: a patient's collections all have one (a donor's collection, chain None, comes by its batch).
    collections: dict[int | None, list[Collection]] = defaultdict(list)
    for c in Collection.objects.filter(chain__order__patient=patient).order_by("collected_at", "id"):
        collections[c.chain_id].append(c)
    steps: dict[int, list[ProcessingStep]] = defaultdict(list)
    for step in (
        ProcessingStep.objects.filter(batch__units__in=[u.id for u in units]).distinct().order_by("started_at", "id")
    ):
        steps[step.batch_id].append(step)
    infusions = list(
        Administration.objects.filter(patient=patient)
        .select_related("unit__batch__product", "administered_by")
        .order_by("administered_at", "id")
    )
    subject = _ref("Patient", patient.id)
    resources: list[tuple[str, object, dict[str, Any]]] = [("Patient", patient.id, _patient(patient))]
    for unit in units:
        chain_collections = collections.get(unit.chain_id, []) if unit.chain_id else []
        if unit.batch.collection is not None:  # allogeneic: the donor's collection the batch was made from
            chain_collections = [unit.batch.collection]
        resources.append(
            ("BiologicallyDerivedProduct", unit.id, _product(unit, patient, chain_collections, steps[unit.batch_id]))
        )
    resources += [("Procedure", a.id, _procedure(a, patient)) for a in infusions]
    resources += [
        ("Observation", f"assessment-{a.id}", _observation(a, subject))
        for a in Assessment.objects.filter(patient=patient).select_related("assessed_by").order_by("assessed_at", "id")
    ]
    resources += [
        ("Observation", f"gvhd-{v.id}", _gvhd_observation(v, patient))
        for v in FollowUpVisit.objects.filter(patient=patient, gvhd_grade__isnull=False)
        .select_related("recorded_by")
        .order_by("visit_date", "id")
    ]
    resources += [
        ("AdverseEvent", e.id, _adverse_event(e, patient, infusions))
        for e in AdverseEvent.objects.filter(patient=patient).order_by("onset_at", "id")
    ]
    resources += [
        ("MedicationAdministration", i.id, _medication_administration(i, patient))
        for i in Intervention.objects.filter(patient=patient).select_related("given_by").order_by("given_at", "id")
    ]
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(_NAMESPACE, f"bundle/patient/{patient.id}/{now.isoformat()}")),
        "meta": {"lastUpdated": _when(now)},
        "type": "collection",
        "timestamp": _when(now),
        "entry": [{"fullUrl": full_url(kind, pk), "resource": resource} for kind, pk, resource in resources],
    }
