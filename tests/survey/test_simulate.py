"""Simulated responses: valid, seeded, with the configured true prevalence of the headline item."""

import numpy as np
import pytest

from recollective.errors import InvalidParameterError
from recollective.survey import analyze, instrument_from_dict, responses_to_csv, simulate_responses
from recollective.survey.simulate import DEFAULT_PREVALENCE


def count_yes(responses, question="acted_any"):
    return sum(answer == "yes" for answer in responses.answers[question])


def test_same_seed_same_responses_and_other_seed_differs():
    first = simulate_responses(60, rng=5)
    assert responses_to_csv(first) == responses_to_csv(simulate_responses(60, rng=5))
    assert responses_to_csv(first) != responses_to_csv(simulate_responses(60, rng=6))
    generator = np.random.default_rng(5)
    assert responses_to_csv(simulate_responses(60, rng=generator)) == responses_to_csv(first)


def test_ids_and_defaults():
    responses = simulate_responses()
    assert DEFAULT_PREVALENCE == 0.32
    assert responses.n_respondents == 100
    assert responses.respondent_ids[:2] == ("S001", "S002") and responses.respondent_ids[-1] == "S100"
    assert responses.source == "simulated(n=100, prevalence=0.32)"


@pytest.mark.parametrize("prevalence", [0.0, 1.0])
def test_extreme_prevalences_are_exact(prevalence):
    responses = simulate_responses(50, prevalence=prevalence, rng=1)
    assert count_yes(responses) == 50 * prevalence
    follow_up = responses.answers["interaction_types"]
    assert all((answer is None) == (prevalence == 0.0) for answer in follow_up)


def test_sample_prevalence_is_binomial_around_the_true_one():
    # 4000 respondents at p = 0.32: the standard error is 0.0074; the seeded draw lands within 3 of them
    responses = simulate_responses(4000, prevalence=0.32, rng=11)
    assert abs(count_yes(responses) / 4000 - 0.32) < 3 * (0.32 * 0.68 / 4000) ** 0.5
    result = analyze(responses)
    acted = result.items["acted_any"]
    assert acted.wilson_low < 0.32 < acted.wilson_high
    # the planted association: those who acted were more often aware (0.85 vs 0.45)
    test = next(t for t in result.tests if t.by == "aware_others")
    groups = {g.key: g.prevalence for g in test.groups}
    assert groups["yes"] > groups["no"] and test.p_value < 1e-6


def test_simulated_answers_respect_the_schema():
    responses = simulate_responses(300, rng=2)
    answers = responses.answers
    for index in range(responses.n_respondents):
        used = answers["platforms_used"][index]
        assert answers["primary_platform"][index] in used
        acted = answers["acted_platforms"][index]
        assert acted is None or set(acted) <= set(used)
        if answers["acted_any"][index] == "no":
            assert answers["motives"][index] is None and answers["cost_effort"][index] is None
    assert any(answer is None for answer in answers["age_band"])  # optional questions are sometimes blank


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"n_respondents": 0}, "n_respondents must be in [1, 1000000]; got 0"),
        ({"n_respondents": 2.5}, "n_respondents must be an integer >= 1; got 2.5"),
        ({"n_respondents": True}, "n_respondents must be an integer"),
        ({"prevalence": 1.2}, "prevalence must be in [0, 1], e.g. 0.32; got 1.2"),
        ({"prevalence": "x"}, "prevalence must be a number in [0, 1]; got 'x'"),
        ({"rng": -1}, "rng must be a numpy Generator"),
    ],
)
def test_bad_parameters(kwargs, needle):
    with pytest.raises(InvalidParameterError) as info:
        simulate_responses(**kwargs)
    assert needle in str(info.value)


def test_a_custom_instrument_gets_uniform_draws():
    instrument = instrument_from_dict(
        {
            "instrument": {"id": "tiny", "version": "1", "title": "Tiny"},
            "sections": [{"id": "main", "title": "Main"}],
            "questions": [
                {"id": "acted", "section": "main", "type": "yes_no", "required": True, "text": "Acted?"},
                {
                    "id": "colour",
                    "section": "main",
                    "type": "single_choice",
                    "required": True,
                    "text": "Colour?",
                    "options": [{"value": v, "label": v} for v in ("red", "green", "blue")],
                },
                {"id": "score", "section": "main", "type": "scale", "required": True, "text": "Score?", "min": 0,
                 "max": 3},
            ],
            "analysis": {"headline": "acted"},
        }
    )  # fmt: skip
    responses = simulate_responses(600, prevalence=0.5, rng=0, instrument=instrument)
    colours = responses.answers["colour"]
    counts = [colours.count(value) for value in ("red", "green", "blue")]
    assert sum(counts) == 600 and min(counts) > 150  # uniform: 200 each, sd 11.5
    assert set(responses.answers["score"]) == {0, 1, 2, 3}
