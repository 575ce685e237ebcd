"""Post-market surveillance: a product's safety figures across its patients, computed in the database.

One SQL statement computes every figure (the README's "Surveillance"), for the whole selection
and for each product and facility, and answers one row of JSON: the cost is a fixed number of queries however many
patients there are (tests assert it), and no Python loop ever runs over patients or records.

What is counted, and how:
- A *course* is a therapy order with at least one infusion that stands (not voided); it starts at its first
  infusion and is counted at the order's treatment facility (where the patient was infused: a later transfer of the
  patient's follow-up does not move past figures). `since` / `until` are dates of that first infusion, inclusive,
  in the project's time zone.
- A record (assessment, treatment, adverse event, follow-up visit) belongs to the patient's course it follows: from
  that course's first infusion until the patient's next course begins. Nothing before an infusion is counted.
- Figures about patients count each patient once at every level (a patient with two courses in one selection is one
  patient, with the worst grade and earliest onset of both); figures about events (serious events, adverse events,
  follow-up checks, RCV tests) count events.
- CRS and ICANS: a patient's worst grade is the highest of the ASTCT 2019 grades computed from their assessments
  and of the grades of adverse events recorded as CRS or ICANS (grade 5 is death from it), 0 when neither shows any.
  Onset is the first assessment graded 1 or more, or the onset of such an adverse event, whichever is earlier; in
  days from the day of infusion (day 0), counted in calendar days.
- Serious events by report status: reported on time (submitted by the deadline, or submitted when no expedited
  deadline applies), reported late, pending (not submitted, deadline not passed or none) and overdue (not submitted,
  deadline passed); the four add up to `total`. `expedited` counts those with an expedited deadline.
- Follow-up: the follow-up visits the protocol scheduled (checks of kind `follow_up_visit`) that have fallen due
  (closed by a death or a voided infusion, they are no longer due). `done`: completed (on time: within the check's
  grace; late: after it); `overdue` (missed): not done and past the grace; the others are due and within the grace.
- Deaths: patients with a follow-up visit recording death or a fatal (grade 5) adverse event; the cause is the fatal
  event's term, else the cause the visit gives, else "unknown". Secondary malignancies: patients with an adverse
  event of that term or a visit recording a new malignancy. RCV: follow-up visits with a test result.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from products.access import AnyUser, has_role, user_facility_ids
from products.choices import Role
from products.models import Facility, Product
from tracker.choices import AdverseEventTerm

# Who sees the figures: safety officers and coordinators of the facilities concerned (and superusers). The figures
# are aggregates: they name no patient, and a safety officer sees nothing else of the patient side.
SURVEILLANCE_ROLES = (Role.SAFETY, Role.COORDINATOR)
GRADES = tuple(str(g) for g in range(6))  # "0".."5": patients by their worst grade
# Onset histogram: each of days 0..14, then one bar for day 15 and later (new CRS after two weeks is rare).
HISTOGRAM_LAST_DAY = 15


def may_see_surveillance(user: AnyUser) -> bool:
    return has_role(user, *SURVEILLANCE_ROLES)


def surveillance_facility_ids(user: AnyUser) -> frozenset[int]:
    """The facilities whose figures the user sees: their own (every facility for a superuser); none without the role."""
    return user_facility_ids(user) if may_see_surveillance(user) else frozenset()


@dataclass(frozen=True)
class OnsetDays:
    median: float | None
    min: int | None
    max: int | None

    @property
    def median_text(self) -> str:
        """The median as people write it: 2, 4.5 (the API keeps the number)."""
        return "" if self.median is None else f"{self.median:g}"


@dataclass(frozen=True)
class Figures:
    """The figures of the surveillance summary (the README's "Surveillance"), for a selection or one product at one
    facility."""

    patients_infused: int
    crs_max_grade: dict[str, int]
    icans_max_grade: dict[str, int]
    crs_onset_days: OnsetDays
    icans_onset_days: OnsetDays
    tocilizumab_patients: int
    steroid_patients: int
    serious_events: dict[str, int]
    deaths: int
    secondary_malignancies: int
    follow_up: dict[str, int]
    rcv: dict[str, int]

    @property
    def serious_all_on_time(self) -> bool:
        """Every serious event reported, and on time: the safety officer's question."""
        return self.serious_events["reported_on_time"] == self.serious_events["total"]

    @property
    def crs_grade_3_or_more(self) -> int:
        return sum(self.crs_max_grade[g] for g in GRADES[3:])

    @property
    def icans_grade_3_or_more(self) -> int:
        return sum(self.icans_max_grade[g] for g in GRADES[3:])


@dataclass(frozen=True)
class ProductFacilityFigures:
    product_code: str
    product_name: str
    facility_code: str
    facility_name: str
    figures: Figures


@dataclass(frozen=True)
class AdverseEventCount:
    term: str
    term_label: str
    grade: int
    events: int
    patients: int


@dataclass(frozen=True)
class HistogramBar:
    label: str  # "0".."14", "15+"
    day: int  # the first day of the bar
    patients: int


@dataclass(frozen=True)
class DeathCause:
    cause: str
    patients: int


@dataclass(frozen=True)
class TimepointCompliance:
    """Follow-up visits scheduled at one time point of the protocol (a check label, e.g. "Follow-up visit day 100")."""

    label: str
    day: int  # the median day after infusion the visits were due
    due: int
    done_on_time: int
    done_late: int
    missed: int
    pending: int  # due, not done, still within the grace


@dataclass(frozen=True)
class Summary:
    product: Product | None
    facility: Facility | None
    since: date | None
    until: date | None
    as_of: datetime
    facilities: list[Facility]  # the facilities counted: the caller's, or the one asked for
    total: Figures
    rows: list[ProductFacilityFigures]
    adverse_events: list[AdverseEventCount] = field(default_factory=list)
    crs_onset_histogram: list[HistogramBar] = field(default_factory=list)
    icans_onset_histogram: list[HistogramBar] = field(default_factory=list)
    death_causes: list[DeathCause] = field(default_factory=list)
    follow_up_by_timepoint: list[TimepointCompliance] = field(default_factory=list)


# The window of a course: from its first infusion until the patient's next course begins.
IN_COURSE = "{at} >= c.infused_at AND (c.ends_at IS NULL OR {at} < c.ends_at)"
IN_COURSE_DAYS = "{on} >= c.infused_on AND (c.ends_at IS NULL OR {on} < (c.ends_at AT TIME ZONE %(tz)s)::date)"
FATAL = "(e.grade = 5 OR e.outcome = 'fatal')"

# The statement is assembled from constant parts only (the filters present choose which); every value is a query
# parameter. Each filter is written only when given, on the columns themselves, so that the planner's estimates hold
# (an "x IS NULL OR ..." would hide the selectivity and turn hash joins into nested loops).
SUMMARY_TEMPLATE = f"""
WITH chosen AS MATERIALIZED (
    SELECT o.id AS order_id, o.patient_id, o.product_id, ch.treatment_facility_id AS facility_id,
           min(a.administered_at) AS infused_at
    FROM tracker_administration a
    JOIN tracker_therapyorder o ON o.id = a.order_id
    JOIN products_chainofidentity ch ON ch.id = o.chain_id
    WHERE a.voided_at IS NULL AND ch.treatment_facility_id = ANY(%(facilities)s) {{product}}
    GROUP BY o.id, ch.treatment_facility_id
    {{period}}
),
c AS MATERIALIZED (
    -- Each course with where its records end: the patient's next infusion of another course, if any.
    SELECT chosen.*, (chosen.infused_at AT TIME ZONE %(tz)s)::date AS infused_on, later.ends_at
    FROM chosen
    LEFT JOIN (
        SELECT x.order_id, min(n.administered_at) AS ends_at
        FROM chosen x
        JOIN tracker_administration n ON n.patient_id = x.patient_id AND n.voided_at IS NULL
             AND n.order_id <> x.order_id AND n.administered_at > x.infused_at
        GROUP BY x.order_id
    ) later ON later.order_id = chosen.order_id
),
tox AS (
    SELECT c.order_id,
           max(s.crs_grade) AS crs_worst, min(s.assessed_at) FILTER (WHERE s.crs_grade > 0) AS crs_onset,
           max(s.icans_grade) AS icans_worst, min(s.assessed_at) FILTER (WHERE s.icans_grade > 0) AS icans_onset
    FROM c JOIN tracker_assessment s ON s.patient_id = c.patient_id AND {IN_COURSE.format(at="s.assessed_at")}
    -- An assessment grading neither is no CRS or ICANS: only the others count (index assessment_graded).
    WHERE s.crs_grade > 0 OR s.icans_grade > 0
    GROUP BY c.order_id
),
event AS MATERIALIZED (
    SELECT c.order_id, e.patient_id, e.term, e.grade, e.onset_at, e.outcome, e.serious, e.report_due_at,
           e.report_submitted_at
    FROM c JOIN tracker_adverseevent e ON e.patient_id = c.patient_id AND {IN_COURSE.format(at="e.onset_at")}
),
ae AS (
    SELECT e.order_id,
           max(e.grade) FILTER (WHERE e.term = 'crs') AS crs_worst,
           min(e.onset_at) FILTER (WHERE e.term = 'crs') AS crs_onset,
           max(e.grade) FILTER (WHERE e.term = 'icans') AS icans_worst,
           min(e.onset_at) FILTER (WHERE e.term = 'icans') AS icans_onset,
           bool_or(e.term = 'secondary_malignancy') AS malignancy,
           bool_or({FATAL}) AS died,
           min(e.term) FILTER (WHERE {FATAL}) AS fatal_term,
           count(*) FILTER (WHERE e.serious) AS serious,
           count(*) FILTER (WHERE e.serious AND e.report_submitted_at IS NOT NULL
                            AND (e.report_due_at IS NULL OR e.report_submitted_at <= e.report_due_at)) AS on_time,
           count(*) FILTER (WHERE e.serious AND e.report_submitted_at > e.report_due_at) AS late,
           count(*) FILTER (WHERE e.serious AND e.report_submitted_at IS NULL
                            AND (e.report_due_at IS NULL OR e.report_due_at > %(now)s)) AS pending,
           count(*) FILTER (WHERE e.serious AND e.report_submitted_at IS NULL
                            AND e.report_due_at <= %(now)s) AS overdue,
           count(*) FILTER (WHERE e.serious AND e.report_due_at IS NOT NULL) AS expedited
    FROM event e
    GROUP BY e.order_id
),
tx AS (
    SELECT c.order_id,
           bool_or(i.kind = 'tocilizumab') AS tocilizumab, bool_or(i.kind = 'corticosteroid') AS steroid
    FROM c JOIN tracker_intervention i ON i.patient_id = c.patient_id AND {IN_COURSE.format(at="i.given_at")}
    WHERE i.kind IN ('tocilizumab', 'corticosteroid')  -- index intervention_anticytokine
    GROUP BY c.order_id
),
visit AS (
    SELECT c.order_id,
           bool_or(v.new_malignancy) AS malignancy,
           bool_or(v.survival_status = 'dead') AS died,
           min(nullif(btrim(v.cause_of_death), '')) FILTER (WHERE v.survival_status = 'dead') AS death_cause,
           count(*) FILTER (WHERE v.rcv_result = 'negative') AS rcv_negative,
           count(*) FILTER (WHERE v.rcv_result = 'positive') AS rcv_positive,
           count(*) FILTER (WHERE v.rcv_result = 'pending') AS rcv_pending
    FROM c JOIN tracker_followupvisit v ON v.patient_id = c.patient_id AND {IN_COURSE_DAYS.format(on="v.visit_date")}
    -- Only visits that report something counted here (index followup_notable).
    WHERE v.new_malignancy OR v.survival_status = 'dead' OR v.rcv_result <> 'not_done'
    GROUP BY c.order_id
),
visit_checks AS MATERIALIZED (
    -- The courses' scheduled follow-up visits fallen due (index check_follow_up_due), counted in one pass both per
    -- course and per time point (the check's label).
    SELECT grouping(k.label) = 0 AS by_label, a.order_id, k.label,
           count(*) AS due,
           count(*) FILTER (WHERE k.status = 'completed') AS done,
           count(*) FILTER (WHERE k.status = 'completed' AND k.completed_at <= k.grace_until) AS on_time,
           count(*) FILTER (WHERE k.status = 'open' AND k.grace_until < %(now)s) AS missed,
           extract(day FROM min(k.due_at - c.infused_at))::int AS day
    FROM c
    JOIN tracker_administration a ON a.order_id = c.order_id
    JOIN tracker_scheduledcheck k ON k.administration_id = a.id
    WHERE k.kind = 'follow_up_visit' AND k.due_at <= %(now)s AND k.status IN ('open', 'completed')
    GROUP BY GROUPING SETS ((a.order_id), (k.label))
),
checks AS (SELECT * FROM visit_checks WHERE NOT by_label),
per_course AS (
    SELECT c.order_id, c.patient_id, c.product_id, c.facility_id,
           greatest(coalesce(tox.crs_worst, 0), coalesce(ae.crs_worst, 0)) AS crs_worst,
           (least(tox.crs_onset, ae.crs_onset) AT TIME ZONE %(tz)s)::date - c.infused_on AS crs_onset,
           greatest(coalesce(tox.icans_worst, 0), coalesce(ae.icans_worst, 0)) AS icans_worst,
           (least(tox.icans_onset, ae.icans_onset) AT TIME ZONE %(tz)s)::date - c.infused_on AS icans_onset,
           coalesce(tx.tocilizumab, false) AS tocilizumab,
           coalesce(tx.steroid, false) AS steroid,
           coalesce(ae.died, false) OR coalesce(visit.died, false) AS died,
           CASE WHEN ae.fatal_term IS NOT NULL THEN 'term:' || ae.fatal_term
                ELSE 'text:' || coalesce(visit.death_cause, '') END AS death_cause,
           coalesce(ae.malignancy, false) OR coalesce(visit.malignancy, false) AS malignancy,
           coalesce(ae.serious, 0) AS serious, coalesce(ae.on_time, 0) AS on_time, coalesce(ae.late, 0) AS late,
           coalesce(ae.pending, 0) AS pending, coalesce(ae.overdue, 0) AS overdue,
           coalesce(ae.expedited, 0) AS expedited,
           coalesce(checks.due, 0) AS fu_due, coalesce(checks.done, 0) AS fu_done,
           coalesce(checks.on_time, 0) AS fu_on_time, coalesce(checks.missed, 0) AS fu_missed,
           coalesce(visit.rcv_negative, 0) AS rcv_negative, coalesce(visit.rcv_positive, 0) AS rcv_positive,
           coalesce(visit.rcv_pending, 0) AS rcv_pending
    FROM c
    LEFT JOIN tox ON tox.order_id = c.order_id
    LEFT JOIN ae ON ae.order_id = c.order_id
    LEFT JOIN tx ON tx.order_id = c.order_id
    LEFT JOIN visit ON visit.order_id = c.order_id
    LEFT JOIN checks ON checks.order_id = c.order_id
),
per_patient AS MATERIALIZED (
    -- Each patient once overall, and once per product and facility: patients are counted, not courses.
    SELECT grouping(product_id) = 1 AS overall, product_id, facility_id, patient_id,
           max(crs_worst) AS crs_worst, min(crs_onset) AS crs_onset,
           max(icans_worst) AS icans_worst, min(icans_onset) AS icans_onset,
           bool_or(tocilizumab) AS tocilizumab, bool_or(steroid) AS steroid,
           bool_or(died) AS died, min(death_cause) FILTER (WHERE died) AS death_cause,
           bool_or(malignancy) AS malignancy,
           sum(serious) AS serious, sum(on_time) AS on_time, sum(late) AS late, sum(pending) AS pending,
           sum(overdue) AS overdue, sum(expedited) AS expedited,
           sum(fu_due) AS fu_due, sum(fu_done) AS fu_done, sum(fu_on_time) AS fu_on_time, sum(fu_missed) AS fu_missed,
           sum(rcv_negative) AS rcv_negative, sum(rcv_positive) AS rcv_positive, sum(rcv_pending) AS rcv_pending
    FROM per_course
    GROUP BY GROUPING SETS ((patient_id), (product_id, facility_id, patient_id))
),
figures AS (
    SELECT overall, product_id, facility_id,
           count(*) AS patients_infused,
           {", ".join(f"count(*) FILTER (WHERE crs_worst = {g}) AS crs_{g}" for g in GRADES)},
           {", ".join(f"count(*) FILTER (WHERE icans_worst = {g}) AS icans_{g}" for g in GRADES)},
           percentile_cont(0.5) WITHIN GROUP (ORDER BY crs_onset) AS crs_onset_median,
           min(crs_onset) AS crs_onset_min, max(crs_onset) AS crs_onset_max,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY icans_onset) AS icans_onset_median,
           min(icans_onset) AS icans_onset_min, max(icans_onset) AS icans_onset_max,
           count(*) FILTER (WHERE tocilizumab) AS tocilizumab_patients,
           count(*) FILTER (WHERE steroid) AS steroid_patients,
           sum(serious) AS serious_total, sum(on_time) AS serious_on_time, sum(late) AS serious_late,
           sum(pending) AS serious_pending, sum(overdue) AS serious_overdue, sum(expedited) AS serious_expedited,
           count(*) FILTER (WHERE died) AS deaths,
           count(*) FILTER (WHERE malignancy) AS secondary_malignancies,
           sum(fu_due) AS fu_due, sum(fu_done) AS fu_done, sum(fu_on_time) AS fu_on_time, sum(fu_missed) AS fu_missed,
           sum(rcv_negative) AS rcv_negative, sum(rcv_positive) AS rcv_positive, sum(rcv_pending) AS rcv_pending,
           count(*) FILTER (WHERE rcv_negative + rcv_positive + rcv_pending > 0) AS rcv_patients_tested,
           count(*) FILTER (WHERE rcv_positive > 0) AS rcv_patients_positive
    FROM per_patient
    GROUP BY overall, product_id, facility_id
)
SELECT
    (SELECT coalesce(json_agg(f ORDER BY f.overall DESC, f.product_code, f.facility_code), '[]')
     FROM (SELECT figures.*, p.code AS product_code, p.name AS product_name,
                  fac.code AS facility_code, fac.name AS facility_name
           FROM figures
           LEFT JOIN products_product p ON p.id = figures.product_id
           LEFT JOIN products_facility fac ON fac.id = figures.facility_id) f) AS figures,
    (SELECT coalesce(json_agg(t ORDER BY t.term, t.grade), '[]')
     FROM (SELECT term, grade, count(*) AS events, count(DISTINCT patient_id) AS patients
           FROM event GROUP BY term, grade) t) AS adverse_events,
    (SELECT coalesce(json_agg(h ORDER BY h.what, h.day), '[]')
     FROM (SELECT 'crs' AS what, least(crs_onset, {HISTOGRAM_LAST_DAY}) AS day, count(*) AS patients
           FROM per_patient WHERE overall AND crs_onset IS NOT NULL GROUP BY 2
           UNION ALL
           SELECT 'icans', least(icans_onset, {HISTOGRAM_LAST_DAY}), count(*)
           FROM per_patient WHERE overall AND icans_onset IS NOT NULL GROUP BY 2) h) AS histogram,
    (SELECT coalesce(json_agg(d ORDER BY d.patients DESC, d.cause), '[]')
     FROM (SELECT death_cause AS cause, count(*) AS patients
           FROM per_patient WHERE overall AND died GROUP BY death_cause) d) AS death_causes,
    (SELECT coalesce(json_agg(t ORDER BY t.day, t.label), '[]')
     FROM (SELECT label, day, due, on_time AS done_on_time, done - on_time AS done_late, missed,
                  due - done - missed AS pending
           FROM visit_checks WHERE by_label) t) AS timepoints
"""  # noqa: S608

# The first infusion's day in the project's time zone, compared as instants (the start of `since`, the end of
# `until`), so that an index on the infusion time serves it.
SINCE = "min(a.administered_at) >= (%(since)s::date::timestamp AT TIME ZONE %(tz)s)"
UNTIL = "min(a.administered_at) < ((%(until)s::date + 1)::timestamp AT TIME ZONE %(tz)s)"


@cache
def summary_sql(*, product: bool, since: bool, until: bool) -> str:
    """The statement for the filters given (four variants at most, each built once)."""
    period = [condition for given, condition in ((since, SINCE), (until, UNTIL)) if given]
    return SUMMARY_TEMPLATE.format(
        product="AND o.product_id = %(product)s" if product else "",
        period=f"HAVING {' AND '.join(period)}" if period else "",
    )


def _onset(row: dict[str, Any], what: str) -> OnsetDays:
    median = row.get(f"{what}_onset_median")
    return OnsetDays(
        median=None if median is None else float(median),
        min=row.get(f"{what}_onset_min"),
        max=row.get(f"{what}_onset_max"),
    )


def _figures(row: dict[str, Any] | None) -> Figures:
    """A row of the statement's `figures` as Figures; no row (no patient) is all zeros and nulls."""
    row = row or {}

    def n(key: str) -> int:
        return int(row.get(key) or 0)

    serious = {
        "total": n("serious_total"),
        "reported_on_time": n("serious_on_time"),
        "reported_late": n("serious_late"),
        "pending": n("serious_pending"),
        "overdue": n("serious_overdue"),
        "expedited": n("serious_expedited"),
    }
    return Figures(
        patients_infused=n("patients_infused"),
        crs_max_grade={g: n(f"crs_{g}") for g in GRADES},
        icans_max_grade={g: n(f"icans_{g}") for g in GRADES},
        crs_onset_days=_onset(row, "crs"),
        icans_onset_days=_onset(row, "icans"),
        tocilizumab_patients=n("tocilizumab_patients"),
        steroid_patients=n("steroid_patients"),
        serious_events=serious,
        deaths=n("deaths"),
        secondary_malignancies=n("secondary_malignancies"),
        follow_up={
            "due": n("fu_due"),
            "done": n("fu_done"),
            "overdue": n("fu_missed"),
            "done_on_time": n("fu_on_time"),
            "done_late": n("fu_done") - n("fu_on_time"),
        },
        rcv={
            "tests": n("rcv_negative") + n("rcv_positive") + n("rcv_pending"),
            "negative": n("rcv_negative"),
            "positive": n("rcv_positive"),
            "pending": n("rcv_pending"),
            "patients_tested": n("rcv_patients_tested"),
            "patients_positive": n("rcv_patients_positive"),
        },
    )


def _histogram(rows: list[dict[str, Any]], what: str) -> list[HistogramBar]:
    counts = {r["day"]: r["patients"] for r in rows if r["what"] == what}
    return [
        HistogramBar(
            label=f"{day}+" if day == HISTOGRAM_LAST_DAY else str(day), day=day, patients=int(counts.get(day, 0))
        )
        for day in range(HISTOGRAM_LAST_DAY + 1)
    ]


def _cause(key: str | None) -> str:
    kind, _, value = (key or "text:").partition(":")
    if kind == "term":
        return AdverseEventTerm(value).label if value in AdverseEventTerm.values else value
    return value or "unknown"


def summary_statement(
    *, facility_ids: list[int], product_id: int | None, since: date | None, until: date | None, now: datetime
) -> tuple[str, dict[str, Any]]:
    """The one statement behind every figure and its parameters: the selector runs it, and so can a benchmark's
    baseline (the same SQL through a bare driver). It answers one row: figures (the selection's, flagged
    `overall`, and each product and facility's), adverse events, the onset histogram, death causes, time points."""
    params = {
        "tz": settings.TIME_ZONE,
        "facilities": facility_ids,
        "product": product_id,
        "since": since,
        "until": until,
        "now": now,
    }
    return summary_sql(product=product_id is not None, since=since is not None, until=until is not None), params


def surveillance_summary(
    *,
    user: AnyUser,
    product: Product | None = None,
    facility: Facility | None = None,
    since: date | None = None,
    until: date | None = None,
    now: datetime | None = None,
) -> Summary:
    """The figures of the courses infused at the user's facilities (or at `facility`, one of them), of `product`,
    first infused between `since` and `until` (inclusive). Two queries: the caller's facilities, the statement."""
    now = now or timezone.now()
    visible = surveillance_facility_ids(user)
    wanted = [facility.id] if facility is not None else sorted(visible)
    facility_ids = [f for f in wanted if f in visible]
    facilities = list(Facility.objects.filter(id__in=facility_ids).order_by("name"))
    sql, params = summary_statement(
        facility_ids=facility_ids,
        product_id=product.id if product is not None else None,
        since=since,
        until=until,
        now=now,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        figures, adverse_events, histogram, causes, timepoints = cursor.fetchone()
    overall = next((r for r in figures if r["overall"]), None)
    return Summary(
        product=product,
        facility=facility,
        since=since,
        until=until,
        as_of=now,
        facilities=facilities,
        total=_figures(overall),
        rows=[
            ProductFacilityFigures(
                product_code=r["product_code"],
                product_name=r["product_name"],
                facility_code=r["facility_code"],
                facility_name=r["facility_name"],
                figures=_figures(r),
            )
            for r in figures
            if not r["overall"]
        ],
        adverse_events=[
            AdverseEventCount(
                term=r["term"],
                term_label=AdverseEventTerm(r["term"]).label if r["term"] in AdverseEventTerm.values else r["term"],
                grade=r["grade"],
                events=r["events"],
                patients=r["patients"],
            )
            for r in adverse_events
        ],
        crs_onset_histogram=_histogram(histogram, "crs"),
        icans_onset_histogram=_histogram(histogram, "icans"),
        death_causes=[DeathCause(cause=_cause(r["cause"]), patients=r["patients"]) for r in causes],
        follow_up_by_timepoint=[TimepointCompliance(**r) for r in timepoints],
    )
