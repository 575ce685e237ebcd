"""Acute GVHD by the MAGIC criteria (Harris et al., BBMT 2016, Table 1): every row of the staging table at and
around its limits, every row of the overall grade, and the response categories (Martin et al., BBMT 2009)."""

import itertools
from datetime import date
from decimal import Decimal

import pytest

from tracker.choices import GvhdResponse
from tracker.rules import gvhd
from tracker.rules.gvhd import Findings, Stages

# Skin (active erythema only): (% BSA, bullae) -> stage
SKIN = [
    ((0, False), 0),  # no active (erythematous) GVHD rash
    ((1, False), 1),  # maculopapular rash < 25% BSA
    ((24, False), 1),
    ((25, False), 2),  # 25-50%
    ((50, False), 2),
    ((51, False), 3),  # > 50%
    ((100, False), 3),
    ((51, True), 4),  # generalized erythroderma (> 50%) plus bullous formation and desquamation > 5%
    ((100, True), 4),
    ((40, True), 2),  # bullae without generalized erythroderma: staged by the extent
]


@pytest.mark.parametrize(("given", "stage"), SKIN)
def test_skin_stage(given, stage):
    bsa, bullae = given
    assert gvhd.skin_stage(bsa_pct=bsa, bullae=bullae) == stage


# Liver: total bilirubin (mg/dL) -> stage
LIVER = [
    ("0.4", 0),
    ("1.9", 0),  # < 2
    ("2.0", 1),  # 2-3
    ("3.0", 1),
    ("3.1", 2),  # 3.1-6
    ("6.0", 2),
    ("6.1", 3),  # 6.1-15
    ("15.0", 3),
    ("15.1", 4),  # > 15
    ("42.0", 4),
]


@pytest.mark.parametrize(("bilirubin", "stage"), LIVER)
def test_liver_stage(bilirubin, stage):
    assert gvhd.liver_stage(bilirubin_mg_dl=Decimal(bilirubin)) == stage


@pytest.mark.parametrize(("persistent", "stage"), [(False, 0), (True, 1)])
def test_upper_gi_stage(persistent, stage):
    assert gvhd.upper_gi_stage(persistent=persistent) == stage


# Lower GI, adults: (mL/day, episodes/day, severe) -> stage
LOWER_GI_ADULT = [
    ((0, None, False), 0),
    ((499, None, False), 0),  # < 500 mL/day
    ((500, None, False), 1),  # 500-999
    ((999, None, False), 1),
    ((1000, None, False), 2),  # 1000-1500
    ((1500, None, False), 2),
    ((1501, None, False), 3),  # > 1500
    ((None, 2, False), 0),  # < 3 episodes/day
    ((None, 3, False), 1),  # 3-4
    ((None, 4, False), 1),
    ((None, 5, False), 2),  # 5-7
    ((None, 7, False), 2),
    ((None, 8, False), 3),  # > 7
    ((200, 6, False), 2),  # volume or episodes: the higher stage counts
    ((1600, 1, False), 3),
    ((0, 0, True), 4),  # severe abdominal pain with or without ileus, or grossly bloody stool
    ((None, None, True), 4),  # regardless of stool volume
]


@pytest.mark.parametrize(("given", "stage"), LOWER_GI_ADULT)
def test_lower_gi_stage_adults(given, stage):
    ml, episodes, severe = given
    assert gvhd.lower_gi_stage(ml_per_day=ml, episodes_per_day=episodes, severe=severe) == stage


# Lower GI, children (per kg; a 20 kg child): (mL/day, episodes/day) -> stage
LOWER_GI_CHILD = [
    ((199, None), 0),  # < 10 mL/kg/day
    ((200, None), 1),  # 10-19.9
    ((398, None), 1),
    ((400, None), 2),  # 20-30
    ((600, None), 2),
    ((601, None), 3),  # > 30
    ((None, 3), 0),  # < 4 episodes/day
    ((None, 4), 1),  # 4-6
    ((None, 6), 1),
    ((None, 7), 2),  # 7-10
    ((None, 10), 2),
    ((None, 11), 3),  # > 10
]


@pytest.mark.parametrize(("given", "stage"), LOWER_GI_CHILD)
def test_lower_gi_stage_children_per_kg(given, stage):
    ml, episodes = given
    assert (
        gvhd.lower_gi_stage(ml_per_day=ml, episodes_per_day=episodes, severe=False, child=True, weight_kg=Decimal(20))
        == stage
    )


def test_a_childs_stool_volume_needs_the_weight():
    with pytest.raises(ValueError, match="weight"):
        gvhd.lower_gi_stage(ml_per_day=300, episodes_per_day=None, severe=False, child=True, weight_kg=None)


@pytest.mark.parametrize(
    ("born", "on", "child"),
    [(date(2008, 6, 2), date(2026, 6, 1), True), (date(2008, 6, 2), date(2026, 6, 2), False)],
)
def test_children_are_under_18_on_the_day_of_the_staging(born, on, child):
    assert gvhd.staged_as_child(born, on) is child


# Overall clinical grade (Harris 2016, Table 1): (skin, liver, upper GI, lower GI) -> grade 0-4 (0-IV)
GRADE = [
    # Grade 0: no stage 1-4 of any organ.
    ((0, 0, 0, 0), 0),
    # Grade I: stage 1-2 skin without liver, upper GI or lower GI involvement.
    ((1, 0, 0, 0), 1),
    ((2, 0, 0, 0), 1),
    # Grade II: stage 3 rash and/or stage 1 liver and/or stage 1 upper GI and/or stage 1 lower GI.
    ((3, 0, 0, 0), 2),
    ((0, 1, 0, 0), 2),
    ((0, 0, 1, 0), 2),
    ((0, 0, 0, 1), 2),
    ((2, 1, 1, 1), 2),
    ((3, 1, 1, 1), 2),
    # Grade III: stage 2-3 liver and/or stage 2-3 lower GI, with stage 0-3 skin and/or stage 0-1 upper GI.
    ((0, 2, 0, 0), 3),
    ((0, 3, 0, 0), 3),
    ((0, 0, 0, 2), 3),
    ((0, 0, 0, 3), 3),
    ((3, 3, 1, 3), 3),
    ((1, 0, 1, 2), 3),
    # Grade IV: stage 4 skin, liver or lower GI involvement, with stage 0-1 upper GI.
    ((4, 0, 0, 0), 4),
    ((0, 4, 0, 0), 4),
    ((0, 0, 0, 4), 4),
    ((4, 3, 1, 3), 4),
    ((1, 1, 1, 4), 4),
]


@pytest.mark.parametrize(("organs", "grade"), GRADE)
def test_overall_grade(organs, grade):
    assert gvhd.overall_grade(Stages(*organs)) == grade


def test_every_combination_of_stages_has_the_grade_of_its_most_severe_organ():
    """The table's rows cover every combination: the grade is the highest grade any one organ alone gives."""
    alone = {  # the grade each organ's stage gives by itself (Table 1)
        "skin": [0, 1, 1, 2, 4],
        "liver": [0, 2, 3, 3, 4],
        "upper_gi": [0, 2],
        "lower_gi": [0, 2, 3, 3, 4],
    }
    for skin, liver, upper, lower in itertools.product(range(5), range(5), range(2), range(5)):
        worst = max(alone["skin"][skin], alone["liver"][liver], alone["upper_gi"][upper], alone["lower_gi"][lower])
        assert gvhd.overall_grade(Stages(skin, liver, upper, lower)) == worst, (skin, liver, upper, lower)


def findings(bsa: int = 0, bilirubin: str = "1.0", *, upper: bool = False, ml: int = 100, bullae: bool = False):
    return Findings(
        skin_rash_bsa_pct=bsa,
        skin_bullae=bullae,
        bilirubin_mg_dl=Decimal(bilirubin),
        upper_gi_persistent=upper,
        stool_ml_per_day=ml,
        stool_episodes_per_day=None,
        lower_gi_severe=False,
    )


def test_stages_from_findings():
    assert gvhd.stages(findings(40, "2.4", upper=True, ml=1200)) == Stages(skin=2, liver=1, upper_gi=1, lower_gi=2)


BASELINE = findings(40, "2.4", upper=True, ml=1200)  # skin 2, liver 1, upper GI 1, lower GI 2: grade III

# Martin 2009: the day-28 findings against BASELINE -> the response
RESPONSE = [
    (findings(0, "1.0", ml=100), GvhdResponse.CR),  # every organ clear
    (findings(10, "1.5", ml=300), GvhdResponse.VGPR),  # skin < 25%, no bullae; liver < 2; gut clear
    (findings(10, "0.5", ml=300), GvhdResponse.VGPR),
    (findings(30, "1.5", ml=300), GvhdResponse.PR),  # better, but a rash over 25% is no VGPR
    (findings(10, "1.5", ml=600), GvhdResponse.PR),  # better, but the gut is not clear
    (findings(10, "2.2", ml=300), GvhdResponse.PR),  # liver still stage 1 and not below 25% of baseline
    (findings(40, "2.4", upper=True, ml=800), GvhdResponse.PR),  # one organ one stage better
    (findings(60, "1.0", ml=300), GvhdResponse.MIXED),  # skin worse, the rest better
    (findings(40, "7.0", upper=True, ml=1200), GvhdResponse.PROGRESSION),  # liver worse, nothing better
    (findings(40, "2.4", upper=True, ml=1200), GvhdResponse.NR),  # unchanged
    (findings(45, "2.8", upper=True, ml=1400), GvhdResponse.NR),  # other numbers, the same stages
]


@pytest.mark.parametrize(("current", "response"), RESPONSE)
def test_response_against_baseline(current, response):
    result = gvhd.response(
        baseline=gvhd.stages(BASELINE),
        baseline_bilirubin_mg_dl=BASELINE.bilirubin_mg_dl,
        current=gvhd.stages(current),
        findings=current,
    )

    assert result == response


def test_a_bilirubin_below_a_quarter_of_a_high_baseline_counts_for_a_very_good_partial_response():
    baseline = findings(40, "16.0", ml=1200)  # liver stage 4
    current = findings(10, "3.5", ml=300)  # liver stage 2 still, but 3.5 < 25% of 16

    result = gvhd.response(
        baseline=gvhd.stages(baseline),
        baseline_bilirubin_mg_dl=baseline.bilirubin_mg_dl,
        current=gvhd.stages(current),
        findings=current,
    )

    assert result == GvhdResponse.VGPR


def test_bullae_keep_a_partial_response_from_being_very_good():
    baseline = findings(100, "1.0", bullae=True, ml=100)  # skin stage 4
    current = findings(20, "1.0", bullae=True, ml=100)  # skin stage 1, bullae still there

    result = gvhd.response(
        baseline=gvhd.stages(baseline),
        baseline_bilirubin_mg_dl=baseline.bilirubin_mg_dl,
        current=gvhd.stages(current),
        findings=current,
    )

    assert result == GvhdResponse.PR


def test_without_active_gvhd_at_baseline_there_is_no_response_to_judge():
    clear = findings(0, "1.0", ml=100)

    result = gvhd.response(
        baseline=gvhd.stages(clear),
        baseline_bilirubin_mg_dl=clear.bilirubin_mg_dl,
        current=gvhd.stages(findings(30, "1.0")),
        findings=findings(30, "1.0"),
    )

    assert result == GvhdResponse.NOT_EVALUABLE


def test_the_description_names_the_grade_the_stages_and_the_response():
    text = gvhd.describe(grade=3, stages=Stages(2, 1, 1, 2), response=GvhdResponse.PR, response_day=28)

    assert text == "Acute GVHD grade III (skin 2, liver 1, upper GI 1, lower GI 2); day 28: partial response"
