"""The packaged instrument covers the issue's topics; schema errors name the file and the dotted field."""

import tomllib
from importlib import resources

import pytest

from recollective.errors import ConfigError
from recollective.survey import RESPONDENT_ID, default_instrument, instrument_from_dict, load_instrument


def packaged_dict() -> dict:
    text = resources.files("recollective.survey").joinpath("questionnaire_v1.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def test_packaged_instrument_is_versioned_and_marked_as_a_reconstruction():
    instrument = load_instrument()
    assert instrument is default_instrument()  # loaded once
    assert instrument.info.id == "recollective-influence-survey"
    assert instrument.info.version == "1.0.0"
    assert "reconstruction" in instrument.info.reconstruction_note
    assert "2506.04525" in instrument.info.reconstruction_note
    assert instrument.columns[0] == RESPONDENT_ID
    assert len(instrument.questions) == 19
    assert instrument.analysis.headline == "acted_any"


def test_packaged_instrument_covers_every_topic_of_the_issue():
    instrument = default_instrument()
    ids = set(instrument.question_ids)
    # awareness; strategic behaviour (engaging, avoiding, boosting, coordinating); platforms; costs; demographics
    assert {"aware_self", "aware_others", "acted_any"} <= ids
    assert {"engaged_to_promote", "avoided_to_demote", "boosted_creator", "coordinated_campaign"} <= ids
    assert {"platforms_used", "primary_platform", "acted_platforms"} <= ids
    assert {"cost_time", "cost_effort", "own_recommendations"} <= ids
    interactions = set(instrument.question("interaction_types").option_values)
    assert {"like", "comment", "share", "save", "search", "rating", "watch_time"} <= interactions
    motives = set(instrument.question("motives").option_values)
    assert {"altruism", "protest", "fandom", "community"} <= motives
    demographics = [q for q in instrument.questions if q.section == "demographics"]
    assert demographics and not any(q.required for q in demographics)  # kept optional
    follow_ups = [q for q in instrument.questions if q.ask_if is not None]
    assert all(q.ask_if.question == "acted_any" and q.ask_if.equals == ("yes",) for q in follow_ups)
    assert {b.name for b in instrument.analysis.breakdowns} == {"platform", "interaction", "motive"}


def test_question_helpers():
    instrument = default_instrument()
    acted = instrument.question("acted_any")
    assert acted.option_values == ("yes", "no")
    assert acted.expected() == "one of: yes, no"
    assert instrument.question("cost_effort").expected() == "an integer from 1 to 5"
    assert instrument.question("motives").label_of("fandom").startswith("To support a creator")
    with pytest.raises(ConfigError, match="no question 'nope'"):
        instrument.question("nope")


def _broken(mutate) -> str:
    data = packaged_dict()
    mutate(data)
    with pytest.raises(ConfigError) as info:
        instrument_from_dict(data, "schema.toml")
    message = str(info.value)
    assert "\n" not in message
    return message


def _question(data, question_id):
    return next(q for q in data["questions"] if q["id"] == question_id)


def _set(question_id, **changes):
    return lambda data: _question(data, question_id).update(changes)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_set("acted_any", colour="red"), "questions.5.colour (question 'acted_any'): unknown key; remove it or "
         "check its spelling"),
        (_set("motives", ask_if={"question": "gender", "equals": ["man"]}), "questions.12.ask_if.question "
         "(question 'motives'): 'gender' is not a question before 'motives'; ask_if must refer to an earlier question"),
        (_set("motives", ask_if={"question": "acted_any", "equals": ["y"]}), "questions.12.ask_if.equals "
         "(question 'motives'): 'y' is not an option of 'acted_any' (one of: yes, no)"),
        (_set("gender", id="age_band"), "questions.18.id (question 'age_band'): duplicate question id 'age_band'"),
        (_set("gender", id=RESPONDENT_ID), "questions.18.id (question 'respondent_id'): 'respondent_id' is reserved "
         "for the respondent column; rename the question"),
        (_set("motives", when_skipped="no"), "questions.12.when_skipped (question 'motives'): when_skipped is for "
         "yes/no questions behind ask_if"),
        (lambda d: d["analysis"].update(headline="engaged_to_promote"), "analysis.headline: 'engaged_to_promote' "
         "must name a required yes/no question asked of everyone"),
        (lambda d: d["analysis"]["tests"].append({"outcome": "gender", "by": "acted_any"}), "analysis.tests.4.outcome: "
         "'gender' must name a yes/no question"),
        (_set("cost_effort", max=1), "questions.14.min (question 'cost_effort'): a scale needs integers min < max; "
         "got min=1, max=1"),
        (_set("gender", section="use"), "questions.18.section (question 'gender'): 'use' comes after section "
         "'demographics'; list the questions section by section, in the order of [[sections]]"),
        (_set("primary_platform", within="gender"), "questions.1.within (question 'primary_platform'): 'gender' "
         "must name an earlier multi-choice question"),
        (lambda d: _question(d, "primary_platform")["options"].append({"value": "myspace", "label": "MySpace"}),
         "questions.1.within (question 'primary_platform'): options ['myspace'] of 'primary_platform' are not "
         "options of 'platforms_used'"),
        (lambda d: d["analysis"]["breakdowns"][0].update(among="gender"), "analysis.breakdowns.0.among: 'gender' "
         "must name a multi-choice question"),
        (lambda d: (_question(d, "acted_platforms").pop("within"), _question(d, "acted_platforms")["options"].append(
            {"value": "myspace", "label": "MySpace"})), "analysis.breakdowns.0.among: options ['myspace'] of "
         "'acted_platforms' are not options of 'platforms_used'"),
    ],
)  # fmt: skip
def test_schema_errors_name_the_dotted_field(mutate, expected):
    assert _broken(mutate) == f"schema.toml: {expected}"


def test_pydantic_errors_name_the_dotted_field_too():
    message = _broken(_set("acted_any", type="yes_or_no"))
    assert message.startswith("schema.toml: questions.5.type (question 'acted_any'): Input should be 'yes_no'")
    message = _broken(lambda d: _question(d, "motives")["options"].append({"value": "Bad Code", "label": "x"}))
    assert message.startswith("schema.toml: questions.12.options.5.value (question 'motives'): String should match")


def test_files_that_are_not_schemas(tmp_path):
    with pytest.raises(ConfigError, match=r"missing\.toml: no such file"):
        load_instrument(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text('[instrument]\nid = "x"\nversion = \n')
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML: .*line 3"):
        load_instrument(bad)
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    with pytest.raises(ConfigError, match=r"empty\.toml: instrument: Field required"):
        load_instrument(empty)


def test_a_custom_schema_file_round_trips(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(
        """
[instrument]
id = "tiny"
version = "0.1"
title = "Tiny"

[[sections]]
id = "main"
title = "Main"

[[questions]]
id = "acted"
section = "main"
type = "yes_no"
required = true
text = "Did you act?"

[analysis]
headline = "acted"
""",
        encoding="utf-8",
    )
    instrument = load_instrument(path)
    assert instrument.label == "tiny 0.1"
    assert instrument.columns == ("respondent_id", "acted")
    assert instrument.source == str(path)
