"""The analysis on planted responses: prevalences, denominators, breakdowns, tests, Holm, post-stratification."""

import math

import numpy as np
import pytest
from scipy.stats import MonteCarloMethod, binomtest, chi2_contingency, fisher_exact

from recollective.errors import DataError, InvalidParameterError
from recollective.survey import (
    analyze,
    association,
    choose_test,
    clopper_pearson_interval,
    default_instrument,
    holm,
    read_population_shares,
    read_responses,
    wilson_interval,
)

COLUMNS = default_instrument().columns
NON_ACTOR = {
    "platforms_used": "youtube",
    "primary_platform": "youtube",
    "usage_frequency": "daily",
    "aware_self": "yes",
    "aware_others": "no",
    "acted_any": "no",
    "would_join": "no",
}
ACTOR = NON_ACTOR | {
    "acted_any": "yes",
    "engaged_to_promote": "no",
    "avoided_to_demote": "no",
    "boosted_creator": "no",
    "coordinated_campaign": "no",
    "acted_platforms": "youtube",
    "interaction_types": "like",
    "motives": "altruism",
    "cost_time": "under_1h",
    "cost_effort": "1",
    "own_recommendations": "unchanged",
}


def build(rows: list[dict], source: str = "planted.csv"):
    lines = [",".join(COLUMNS)]
    for index, row in enumerate(rows):
        cells = {"respondent_id": f"P{index:03d}", **row}
        lines.append(",".join(cells.get(column, "") for column in COLUMNS))
    return read_responses("\n".join(lines) + "\n", source=source)


def planted_100():
    """100 respondents, 32 of whom acted (i < 32). Planted answers, with the expected counts in comments."""
    rows = []
    for i in range(100):
        row = dict(ACTOR if i < 32 else NON_ACTOR)
        row["platforms_used"] = "youtube;tiktok" if i % 2 == 0 else "youtube"  # tiktok users: 50
        if i < 32:
            row["acted_platforms"] = "tiktok" if i % 2 == 0 else "youtube"  # 16 on each
            row["engaged_to_promote"] = "yes" if i < 20 else "no"  # 20 of 100
            row["interaction_types"] = "like;rating" if i < 8 else "like"  # like 32/32, rating 8/32
        row["aware_others"] = "yes" if i < 60 else "no"  # table (yes, no): aware (32, 28), unaware (0, 40)
        rows.append(row)
    return build(rows)


def test_headline_32_of_100():
    result = analyze(planted_100())
    assert result.n_respondents == 100
    acted = result.items["acted_any"]
    assert (acted.count, acted.n, acted.prevalence) == (32, 100, 0.32)
    assert f"[{acted.wilson_low:.4f}, {acted.wilson_high:.4f}]" == "[0.2367, 0.4166]"
    exact = binomtest(32, 100).proportion_ci(method="exact")
    assert acted.clopper_pearson_low == pytest.approx(exact.low, abs=1e-12)
    assert acted.clopper_pearson_high == pytest.approx(exact.high, abs=1e-12)
    assert acted.weighted is None


def test_follow_up_items_count_the_unasked_as_no():
    result = analyze(planted_100())
    engaged = result.items["engaged_to_promote"]
    assert (engaged.count, engaged.n) == (20, 100)
    assert (engaged.wilson_low, engaged.wilson_high) == wilson_interval(20, 100)
    assert list(result.items) == [q.id for q in default_instrument().yes_no_questions]


def test_breakdown_denominators():
    result = analyze(planted_100())
    platform = {p.key: p for p in result.breakdowns["platform"].proportions}
    assert (platform["youtube"].count, platform["youtube"].n) == (16, 100)
    assert (platform["tiktok"].count, platform["tiktok"].n) == (16, 50)
    assert (platform["goodreads"].count, platform["goodreads"].n) == (0, 0)
    assert math.isnan(platform["goodreads"].prevalence) and math.isnan(platform["goodreads"].wilson_low)
    interaction = {p.key: p for p in result.breakdowns["interaction"].proportions}
    assert (interaction["like"].count, interaction["like"].n) == (32, 32)
    assert (interaction["rating"].count, interaction["rating"].n) == (8, 32)
    assert (interaction["search"].count, interaction["search"].n) == (0, 32)
    assert interaction["rating"].clopper_pearson_high == pytest.approx(clopper_pearson_interval(8, 32)[1])
    motive = {p.key: p for p in result.breakdowns["motive"].proportions}
    assert (motive["altruism"].count, motive["altruism"].n) == (32, 32)


def test_large_table_uses_chi_square_like_scipy():
    result = analyze(planted_100())
    test = next(t for t in result.tests if t.by == "aware_others")
    assert test.categories == ("yes", "no")
    assert test.table == ((32, 28), (0, 40))
    assert test.test == "chi_square"
    reference = chi2_contingency(np.array([[32, 28], [0, 40]]), correction=False)
    assert test.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert test.p_value == pytest.approx(reference.pvalue, rel=1e-12)
    assert test.dof == 1
    assert test.min_expected == pytest.approx(40 * 32 / 100)
    groups = {g.key: g for g in test.groups}
    assert (groups["yes"].count, groups["yes"].n, groups["no"].count, groups["no"].n) == (32, 60, 0, 40)


def test_small_2x2_table_uses_fisher_like_scipy():
    # 12 respondents: aware (4 acted of 6), unaware (1 acted of 6): expected counts 2.5 < 5
    rows = []
    for i in range(12):
        aware = i < 6
        acted = i < 4 or i == 6
        rows.append((ACTOR if acted else NON_ACTOR) | {"aware_others": "yes" if aware else "no"})
    test = association(build(rows), "acted_any", "aware_others")
    assert test.table == ((4, 2), (1, 5))
    assert test.test == "fisher_exact"
    reference = fisher_exact(np.array([[4, 2], [1, 5]]))
    assert test.p_value == pytest.approx(reference.pvalue, rel=1e-12)
    assert test.statistic == pytest.approx(reference.statistic)
    assert test.dof is None


def test_choice_rule_boundaries():
    # 2x2 with every expected count >= 5: chi-square; one below 5: Fisher
    assert choose_test([[10, 10], [10, 10]])[0] == "chi_square"
    assert choose_test([[10, 10], [9, 1]])[0] == "fisher_exact"
    # 2x5, one cell of ten below 5 (10%) and all >= 1: chi-square
    big = [[30, 30, 30, 30, 4], [30, 30, 30, 30, 4]]
    assert choose_test(big)[0] == "chi_square"
    # 2x3 with an expected count below 1: Fisher–Freeman–Halton, reproducible with its seed
    sparse = np.array([[5, 0, 9], [6, 1, 2]])
    name, statistic, dof, p_value, min_expected = choose_test(sparse, rng=7)
    assert name == "fisher_freeman_halton_monte_carlo" and dof is None and min_expected < 1
    reference = fisher_exact(sparse, method=MonteCarloMethod(n_resamples=9999, rng=np.random.default_rng(7)))
    assert p_value == reference.pvalue
    assert statistic == pytest.approx(float(reference.statistic))  # probability of the observed table
    assert choose_test(sparse, rng=7)[3] == p_value
    # a 4x2 table, for which scipy returns arrays of shape (1,)
    assert 0 < choose_test([[2, 1], [2, 0], [1, 0], [0, 1]])[3] <= 1
    # empty rows and columns are dropped; a constant outcome has no test
    assert choose_test([[10, 10, 0], [10, 10, 0], [0, 0, 0]])[0] == "chi_square"
    name, _, dof, p_value, _ = choose_test([[5, 0], [7, 0]])
    assert name == "not_applicable" and dof is None and math.isnan(p_value)


def test_holm():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, math.nan, 0.01]) == pytest.approx([0.5, math.nan, 0.02], nan_ok=True)
    assert holm([]) == []
    result = analyze(planted_100())
    raw = [t.p_value for t in result.tests]
    assert [t.p_value_holm for t in result.tests] == pytest.approx(holm(raw), nan_ok=True)


def test_analysis_is_reproducible_and_confidence_is_applied():
    responses = planted_100()
    assert analyze(responses).as_dict() == analyze(responses).as_dict()
    wide = analyze(responses, confidence=0.99).items["acted_any"]
    assert (wide.wilson_low, wide.wilson_high) == wilson_interval(32, 100, 0.99)
    with pytest.raises(InvalidParameterError, match="confidence"):
        analyze(responses, confidence=95)


def age_sample():
    """50 aged 18-24 (30 acted), 50 aged 25-34 (10 acted), 5 without an answer, 3 'prefer not to say'."""
    rows = []
    for i in range(50):
        rows.append((ACTOR if i < 30 else NON_ACTOR) | {"age_band": "18_24"})
    for i in range(50):
        rows.append((ACTOR if i < 10 else NON_ACTOR) | {"age_band": "25_34"})
    rows += [ACTOR | {"age_band": ""} for _ in range(5)]
    rows += [NON_ACTOR | {"age_band": "prefer_not"} for _ in range(3)]
    return build(rows)


def test_post_stratification_planted():
    population = read_population_shares("age_band,share\n18_24,0.2\n25_34,0.8\n", default_instrument(), "pop.csv")
    result = analyze(age_sample(), population=population)
    weighting = result.weighting
    assert weighting.n_weighted == 100 and weighting.n_excluded == 8
    assert dict(weighting.excluded) == {"(no answer)": 5, "prefer_not": 3}
    assert weighting.stratum_weights == pytest.approx({"18_24": 0.4, "25_34": 1.6})
    acted = result.items["acted_any"]
    assert (acted.count, acted.n) == (45, 108)  # the unweighted estimate keeps everyone
    weighted = acted.weighted
    assert weighted.prevalence == pytest.approx(0.2 * 30 / 50 + 0.8 * 10 / 50)  # 0.28
    n_effective = 100**2 / (50 * 0.4**2 + 50 * 1.6**2)
    assert weighted.n_effective == pytest.approx(n_effective)
    assert weighting.design_effect == pytest.approx(100 / n_effective)
    assert (weighted.wilson_low, weighted.wilson_high) == pytest.approx(
        wilson_interval(0.28 * n_effective, n_effective)
    )
    assert (weighted.clopper_pearson_low, weighted.clopper_pearson_high) == pytest.approx(
        clopper_pearson_interval(0.28 * n_effective, n_effective)
    )
    assert result.as_dict()["weighting"]["excluded"] == {"(no answer)": 5, "prefer_not": 3}


def test_weights_equal_to_the_sample_shares_change_nothing():
    population = read_population_shares("age_band,share\n18_24,0.5\n25_34,0.5\n", default_instrument())
    responses = build(list(age_sample_rows()))
    result = analyze(responses, population=population)
    for item in result.items.values():
        assert item.weighted.prevalence == pytest.approx(item.prevalence, abs=1e-15)
        assert item.weighted.n_effective == pytest.approx(item.n)
        assert item.weighted.wilson_low == pytest.approx(item.wilson_low, abs=1e-12)


def age_sample_rows():
    for i in range(50):
        yield (ACTOR if i < 30 else NON_ACTOR) | {"age_band": "18_24"}
    for i in range(50):
        yield (ACTOR if i < 10 else NON_ACTOR) | {"age_band": "25_34"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "pop.csv: row 1, column 1: the file is empty; expected a header row and data rows"),
        ("age_bnd,share\n18_24,1\n", "pop.csv: row 1, column 1: 'age_bnd' is not a question of instrument "
         "recollective-influence-survey 1.0.0 (did you mean 'age_band'?)"),
        ("age_band,weight\n18_24,1\n", "pop.csv: row 1, column 2: the header must be two columns, the "
         "stratification question id and 'share' (e.g. 'age_band,share'); got 'age_band,weight'"),
        ("platforms_used,share\nyoutube,1\n", "pop.csv: row 1, column 1: 'platforms_used' is a multi_choice "
         "question; strata must come from a single-choice or yes/no question"),
        ("age_band,share\n", "pop.csv: row 2, column 'age_band': no strata; list one row per stratum"),
        ("age_band,share\n18-24,0.5\n25_34,0.5\n", "pop.csv: row 2, column 'age_band': unknown stratum '18-24' "
         "(did you mean '18_24'?); expected one of: 18_24, 25_34, 35_44, 45_54, 55_plus, prefer_not"),
        ("age_band,share\n18_24,0.5\n18_24,0.5\n", "pop.csv: row 3, column 'age_band': stratum '18_24' is listed "
         "twice (also row 2)"),
        ("age_band,share\n18_24,half\n25_34,0.5\n", "pop.csv: row 2, column 'share': 'half' is not a share in "
         "(0, 1]; write the population fraction of the stratum, e.g. 0.18"),
        ("age_band,share\n18_24,0\n25_34,1\n", "pop.csv: row 2, column 'share': '0' is not a share in (0, 1]; "
         "write the population fraction of the stratum, e.g. 0.18"),
        ("age_band,share\n18_24,nan\n25_34,0.5\n", "pop.csv: row 2, column 'share': 'nan' is not a share in "
         "(0, 1]; write the population fraction of the stratum, e.g. 0.18"),
        ("age_band,share\n18_24,0.5\n25_34,0.4\n", "pop.csv: rows 2-3, column 'share': the shares sum to 0.9; "
         "they must sum to 1 (within 0.001)"),
        ("age_band,share\n18_24,0.5,x\n25_34,0.5\n", "pop.csv: row 2, column 3: the row has 3 fields; expected 2 "
         "(age_band,share)"),
        (b"age_band,share\n18_24,0.5\n25_34,0.5\xff\n", "pop.csv: row 3, column 'share': byte 0xff is not valid "
         "UTF-8; save the file as UTF-8 CSV"),
    ],
)  # fmt: skip
def test_bad_population_files(text, message):
    with pytest.raises(DataError) as info:
        read_population_shares(text, default_instrument(), "pop.csv")
    assert str(info.value) == message


def test_a_listed_stratum_without_respondents_cannot_be_weighted():
    population = read_population_shares(
        "age_band,share\n18_24,0.3\n25_34,0.5\n35_44,0.2\n", default_instrument(), "pop.csv"
    )
    with pytest.raises(DataError) as info:
        analyze(age_sample(), population=population)
    assert str(info.value) == (
        "pop.csv: row 4, column 'age_band': no respondent in planted.csv is in stratum '35_44', so it cannot be "
        "weighted; merge it with a neighbouring stratum (add their shares)"
    )


def test_shares_within_tolerance_are_rescaled():
    population = read_population_shares("age_band,share\n18_24,0.2004\n25_34,0.8\n", default_instrument())
    assert sum(population.shares.values()) == pytest.approx(1.0, abs=1e-15)
