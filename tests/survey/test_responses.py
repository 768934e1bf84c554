"""Loading responses: valid files round-trip; every bad file in the corpus gives its exact one-line error."""

import os
import tomllib
from pathlib import Path

import pytest

from recollective.errors import ConfigError, DataError
from recollective.survey import (
    default_instrument,
    load_instrument,
    load_responses,
    read_responses,
    responses_to_csv,
    simulate_responses,
    write_responses,
)

CORPUS = Path(__file__).parent / "bad_responses"
EXPECTED = tomllib.loads((CORPUS / "expected.toml").read_text(encoding="utf-8"))

HEADER = ",".join(default_instrument().columns)
# The base every corpus file was made from: three respondents, one who acted (R1) and two who did not.
VALID = (
    f"{HEADER}\n"
    "R1,youtube;tiktok,tiktok,daily,yes,yes,yes,yes,no,yes,no,tiktok,like;share,altruism;community,h1_5,3,"
    "unchanged,yes,25_34,woman\n"
    "R2,youtube;goodreads,goodreads,weekly,yes,no,no,,,,,,,,,,,no,35_44,man\n"
    "R3,spotify,spotify,monthly,no,no,no,,,,,,,,,,,yes,,\n"
)


def test_the_valid_base_loads_with_typed_answers():
    responses = read_responses(VALID, source="valid.csv")
    assert responses.respondent_ids == ("R1", "R2", "R3")
    assert responses.rows == (2, 3, 4)
    answers = responses.answers
    assert answers["platforms_used"] == (("youtube", "tiktok"), ("youtube", "goodreads"), ("spotify",))
    assert answers["acted_any"] == ("yes", "no", "no")
    assert answers["cost_effort"] == (3, None, None)
    assert answers["motives"][0] == ("altruism", "community")  # schema order
    assert answers["age_band"] == ("25_34", "35_44", None)
    assert responses.asked("motives") == (True, False, False)
    assert responses.asked("acted_any") == (True, True, True)


def test_lenient_but_exact_reading():
    # a byte-order mark, CRLF line ends, spaces around codes, a trailing ';', blank lines and reordered columns
    header = default_instrument().columns
    order = [*header[::-1]]
    rows = [dict(zip(header, line.split(","), strict=True)) for line in VALID.splitlines()[1:]]
    rows[0]["interaction_types"] = " like ; share ;"
    lines = [",".join(order)] + [",".join(row[c] for c in order) for row in rows]
    data = b"\xef\xbb\xbf" + ("\r\n".join(lines[:2]) + "\r\n\r\n" + "\r\n".join(lines[2:]) + "\r\n").encode()
    responses = read_responses(data, source="lenient.csv")
    reference = read_responses(VALID, source="lenient.csv")
    assert responses.answers == reference.answers
    assert responses.rows == (2, 4, 5)  # the blank line keeps its row number


def test_round_trip_through_csv(tmp_path):
    simulated = simulate_responses(40, rng=3)
    path = write_responses(simulated, tmp_path / "sub" / "sim.csv")
    loaded = load_responses(path)
    assert loaded.respondent_ids == simulated.respondent_ids
    assert dict(loaded.answers) == dict(simulated.answers)
    assert responses_to_csv(loaded) == path.read_text(encoding="utf-8")


def test_the_corpus_is_complete():
    files = sorted(p.name for p in CORPUS.glob("*.csv"))
    assert files == sorted(EXPECTED)
    # the classes the issue names: unknown options, missing required answers, duplicate ids, wrong or missing
    # columns, undecodable bytes, an empty file
    for name in (
        "unknown_option.csv",
        "missing_required.csv",
        "duplicate_id.csv",
        "missing_column.csv",
        "unknown_column.csv",
        "not_utf8.csv",
        "empty.csv",
    ):
        assert name in EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_gives_its_exact_one_line_error(name):
    path = CORPUS / name
    with pytest.raises(DataError) as info:
        load_responses(path)
    message = str(info.value)
    assert message == EXPECTED[name].format(path=path)
    assert "\n" not in message
    assert message.startswith(f"{path}: row ")
    assert ", column " in message.split(": ")[1]


def test_text_corpus_files_differ_from_the_valid_base_by_one_planted_fault():
    base = VALID.splitlines()
    for name in ("unknown_option.csv", "missing_required.csv", "duplicate_id.csv", "answered_when_skipped.csv"):
        lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
        assert sum(a != b for a, b in zip(lines, base, strict=True)) == 1, name


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataError, match=r"nothing\.csv: no such file"):
        load_responses(tmp_path / "nothing.csv")
    with pytest.raises(DataError, match="is a directory"):
        load_responses(tmp_path)
    fifo = tmp_path / "answers.csv"
    os.mkfifo(fifo)  # once: read_bytes waited for a writer forever
    with pytest.raises(DataError, match=r"answers\.csv: is a FIFO \(named pipe\), not a regular file; give a CSV"):
        load_responses(fifo)
    with pytest.raises(ConfigError, match=r"^/dev/zero: is a character device, not a regular file; give a "):
        load_instrument("/dev/zero")


def test_optional_question_may_be_blank_and_follow_ups_need_the_gate():
    # gender and age are optional; a follow-up needs acted_any == "yes"
    responses = read_responses(VALID)
    assert responses.answers["gender"][2] is None
    bad = VALID.replace(
        "R2,youtube;goodreads,goodreads,weekly,yes,no,no,,,,,,",
        "R2,youtube;goodreads,goodreads,weekly,yes,no,no,yes,,,,,",
    )
    with pytest.raises(DataError, match=r"row 3, column 'engaged_to_promote': answered \('yes'\) although"):
        read_responses(bad)
