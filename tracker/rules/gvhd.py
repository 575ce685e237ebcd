"""Acute graft-versus-host disease: organ stages and overall grade by the MAGIC criteria, and the response to
treatment. Pure: no database.

Staging and grading follow Harris AC et al., "International, multicenter standardization of acute graft-versus-host
disease clinical data collection: a report from the Mount Sinai Acute GVHD International Consortium (MAGIC)", Biol
Blood Marrow Transplant 2016;22:4-10, Table 1. The stages are computed from the raw findings (the extent of the rash,
the bilirubin, the nausea, the stool output), never typed: a stage alone cannot be re-staged later.

Response categories follow Martin PJ et al., "Endpoints for clinical trials testing treatment of acute
graft-versus-host disease: a joint statement", Biol Blood Marrow Transplant 2009;15:777-784 (CR, VGPR, PR, mixed
response, no response, progression), judged organ by organ against the staging at the start of treatment
(baseline); day 28 is the usual time point (DESIGN.md; remestemcel-L's label).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from tracker.choices import GvhdResponse as Response
from tracker.rules.grading import age_in_years
from tracker.rules.ranges import Range

# What can be measured, to one unit of each field: outside these a value is a typing error, not a finding.
SKIN_BSA = Range(0, 100, "percent", "The rash's extent (body surface area)")  # no "%": messages are %-formatted
BILIRUBIN_MG_DL = Range(Decimal("0.0"), Decimal("80.0"), "mg/dL", "A total bilirubin")
STOOL_ML_PER_DAY = Range(0, 20000, "mL/day", "A stool volume")
STOOL_EPISODES_PER_DAY = Range(0, 60, "a day", "A number of stool episodes")

# The raw findings as a follow-up visit records them (field names), in the order forms and the API list them, and
# the range of each measured one.
FINDING_FIELDS = (
    "gvhd_skin_bsa_pct",
    "gvhd_skin_bullae",
    "gvhd_bilirubin_mg_dl",
    "gvhd_upper_gi_persistent",
    "gvhd_stool_ml_per_day",
    "gvhd_stool_episodes_per_day",
    "gvhd_lower_gi_severe",
)
RANGES: dict[str, Range] = {
    "gvhd_skin_bsa_pct": SKIN_BSA,
    "gvhd_bilirubin_mg_dl": BILIRUBIN_MG_DL,
    "gvhd_stool_ml_per_day": STOOL_ML_PER_DAY,
    "gvhd_stool_episodes_per_day": STOOL_EPISODES_PER_DAY,
}

# Harris 2016, Table 1: the values for children are per kg of body weight, or more episodes a day. This project
# counts a patient as a child under 18 years on the day of the staging.
ADULT_AGE = 18


def staged_as_child(birth_date: date, on: date) -> bool:
    """Lower GI is staged with the children's values (per kg, more episodes) under 18 on the day of the staging."""
    return age_in_years(birth_date, on) < ADULT_AGE


MAX_STAGE = 4
UPPER_GI_MAX_STAGE = 1  # MAGIC stages upper GI 0 or 1 only

# The five MAGIC grades, 0 to IV, as the overall grade is written.
ROMAN = ("0", "I", "II", "III", "IV")
# Grades III-IV are severe acute GVHD (the usual split in MAGIC reports and trials): the pages make them alerts.
SEVERE_GRADE = 3


class Organ(StrEnum):
    SKIN = "skin"
    LIVER = "liver"
    UPPER_GI = "upper_gi"
    LOWER_GI = "lower_gi"


@dataclass(frozen=True)
class Findings:
    """The raw findings of one staging (one follow-up visit)."""

    skin_rash_bsa_pct: int  # active (erythematous) rash, % body surface area
    skin_bullae: bool  # bullous formation and desquamation > 5% BSA
    bilirubin_mg_dl: Decimal  # total serum bilirubin
    upper_gi_persistent: bool  # persistent nausea, vomiting or anorexia
    stool_ml_per_day: int | None  # measured stool volume (3-day average), if measured
    stool_episodes_per_day: int | None  # stool episodes a day, if counted
    lower_gi_severe: bool  # severe abdominal pain with or without ileus, or grossly bloody stool
    child: bool = False
    weight_kg: Decimal | None = None  # for a child's stool volume per kg


@dataclass(frozen=True)
class Stages:
    skin: int
    liver: int
    upper_gi: int
    lower_gi: int

    def of(self, organ: Organ) -> int:
        return int(getattr(self, organ.value))

    @property
    def active(self) -> bool:
        """Any organ staged above 0: acute GVHD is there."""
        return any(self.of(organ) for organ in Organ)


def skin_stage(*, bsa_pct: int, bullae: bool) -> int:
    """Harris 2016, Table 1, skin (active erythema only)."""
    if bsa_pct > 50:
        # Stage 4: generalized erythroderma (> 50% BSA) plus bullous formation and desquamation > 5% BSA.
        return 4 if bullae else 3
    if bsa_pct >= 25:
        return 2  # maculopapular rash 25-50% BSA
    if bsa_pct > 0:
        return 1  # maculopapular rash < 25% BSA
    return 0


def liver_stage(*, bilirubin_mg_dl: Decimal) -> int:
    """Harris 2016, Table 1, liver: total bilirubin < 2, 2-3, 3.1-6, 6.1-15, > 15 mg/dL (read as upper bounds
    of 3.0, 6.0 and 15.0, bilirubin being measured to one decimal)."""
    if bilirubin_mg_dl > 15:
        return 4
    if bilirubin_mg_dl > 6:
        return 3
    if bilirubin_mg_dl > 3:
        return 2
    if bilirubin_mg_dl >= 2:
        return 1
    return 0


def upper_gi_stage(*, persistent: bool) -> int:
    """Harris 2016, Table 1, upper GI: persistent nausea, vomiting or anorexia is stage 1; none, or intermittent, 0."""
    return 1 if persistent else 0


# Harris 2016, Table 1, lower GI: the lowest value of each stage 1-3 (stage 0 is below stage 1's).
ADULT_ML_PER_DAY = (500, 1000, 1501)  # < 500; 500-999; 1000-1500; > 1500 mL/day
ADULT_EPISODES = (3, 5, 8)  # < 3; 3-4; 5-7; > 7 episodes/day
CHILD_ML_PER_KG = (Decimal("10"), Decimal("20"), Decimal("30"))  # < 10; 10-19.9; 20-30; > 30 mL/kg/day
CHILD_EPISODES = (4, 7, 11)  # < 4; 4-6; 7-10; > 10 episodes/day


def _stage_by(value: Decimal | int, lowest: tuple) -> int:
    return sum(1 for low in lowest if value >= low)


def lower_gi_stage(
    *,
    ml_per_day: int | None,
    episodes_per_day: int | None,
    severe: bool,
    child: bool = False,
    weight_kg: Decimal | None = None,
) -> int:
    """Harris 2016, Table 1, lower GI (stool output a day). Stage 4 is severe abdominal pain with or without ileus,
    or grossly bloody stool, regardless of stool volume. Volume and episodes are alternatives ("or" in the table):
    given both, the higher stage counts. A child's volume is per kg (`weight_kg` required for it)."""
    if severe:
        return 4
    stage = 0
    if ml_per_day is not None:
        if child:
            if not weight_kg:
                raise ValueError("A child's stool volume is staged per kg: the weight is needed.")
            per_kg = Decimal(ml_per_day) / Decimal(weight_kg)
            # > 30 mL/kg/day is stage 3: 30 itself is still stage 2.
            stage = 3 if per_kg > CHILD_ML_PER_KG[2] else _stage_by(per_kg, CHILD_ML_PER_KG[:2])
        else:
            stage = _stage_by(ml_per_day, ADULT_ML_PER_DAY)
    if episodes_per_day is not None:
        stage = max(stage, _stage_by(episodes_per_day, CHILD_EPISODES if child else ADULT_EPISODES))
    return stage


def stages(findings: Findings) -> Stages:
    """Every organ's MAGIC stage from the raw findings."""
    return Stages(
        skin=skin_stage(bsa_pct=findings.skin_rash_bsa_pct, bullae=findings.skin_bullae),
        liver=liver_stage(bilirubin_mg_dl=findings.bilirubin_mg_dl),
        upper_gi=upper_gi_stage(persistent=findings.upper_gi_persistent),
        lower_gi=lower_gi_stage(
            ml_per_day=findings.stool_ml_per_day,
            episodes_per_day=findings.stool_episodes_per_day,
            severe=findings.lower_gi_severe,
            child=findings.child,
            weight_kg=findings.weight_kg,
        ),
    )


def overall_grade(s: Stages) -> int:
    """Harris 2016, Table 1, overall clinical grade (0-4 for 0-IV), from the most severe target organ:
    IV: stage 4 skin, liver or lower GI; III: stage 2-3 liver and/or stage 2-3 lower GI; II: stage 3 skin and/or
    stage 1 liver and/or stage 1 upper GI and/or stage 1 lower GI; I: stage 1-2 skin without liver, upper GI or
    lower GI involvement; 0: no stage 1-4 of any organ."""
    if MAX_STAGE in (s.skin, s.liver, s.lower_gi):
        return 4
    if s.liver >= 2 or s.lower_gi >= 2:
        return 3
    if s.skin == 3 or s.liver == 1 or s.upper_gi == 1 or s.lower_gi == 1:
        return 2
    if s.skin >= 1:
        return 1
    return 0


# Martin 2009 (joint statement), VGPR: liver "total serum bilirubin < 2 mg/dL or < 25% of baseline at enrollment".
VGPR_BILIRUBIN_FRACTION = Decimal("0.25")


def very_good_partial(current: Stages, findings: Findings, baseline_bilirubin_mg_dl: Decimal) -> bool:
    """Martin 2009, VGPR: skin no rash or residual erythematous rash < 25% BSA without bullae; liver bilirubin
    < 2 mg/dL or < 25% of baseline; gut tolerating food, predominantly formed stools, no overt bleeding or cramping,
    no more than occasional nausea or vomiting (read here as upper and lower GI stage 0)."""
    skin = current.skin <= 1 and not findings.skin_bullae
    liver = current.liver == 0 or findings.bilirubin_mg_dl < VGPR_BILIRUBIN_FRACTION * baseline_bilirubin_mg_dl
    gut = current.upper_gi == 0 and current.lower_gi == 0
    return skin and liver and gut


def response(*, baseline: Stages, baseline_bilirubin_mg_dl: Decimal, current: Stages, findings: Findings) -> Response:
    """Martin 2009 (joint statement), organ by organ against baseline:

    - CR: no acute GVHD left in any organ;
    - PR: at least one organ improved by a stage or more, none worse; VGPR: a PR that also meets the VGPR bar;
    - mixed: at least one organ better and another worse;
    - progression: at least one organ worse, none better;
    - NR (no response): no organ better or worse.
    Without active GVHD at baseline there is nothing to respond: not evaluable.
    """
    if not baseline.active:
        return Response.NOT_EVALUABLE
    if not current.active:
        return Response.CR
    better = [organ for organ in Organ if current.of(organ) < baseline.of(organ)]
    worse = [organ for organ in Organ if current.of(organ) > baseline.of(organ)]
    if better and worse:
        return Response.MIXED
    if worse:
        return Response.PROGRESSION
    if better:
        return Response.VGPR if very_good_partial(current, findings, baseline_bilirubin_mg_dl) else Response.PR
    return Response.NR


RESPONSE_WORDS = {
    Response.CR: "complete response",
    Response.VGPR: "very good partial response",
    Response.PR: "partial response",
    Response.MIXED: "mixed response",
    Response.NR: "no response",
    Response.PROGRESSION: "PROGRESSION",
    Response.NOT_EVALUABLE: "response not evaluable (no active GVHD at baseline)",
}


def describe(*, grade: int, stages: Stages, response: str = "", response_day: int | None = None) -> str:
    """One line for a staging, e.g. "Acute GVHD grade III (skin 2, liver 0, upper GI 1, lower GI 2); day 28:
    partial response"."""
    organs = f"skin {stages.skin}, liver {stages.liver}, upper GI {stages.upper_gi}, lower GI {stages.lower_gi}"
    text = f"Acute GVHD grade {ROMAN[grade]} ({organs})"
    if response:
        day = f"day {response_day}" if response_day is not None else "response"
        text += f"; {day}: {RESPONSE_WORDS[Response(response)]}"
    return text
