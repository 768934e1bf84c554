"""``recollective campaign run ... --campaign FILE.toml``: several collectives; one equals the single-collective
run; bad files give one error line and exit 2."""

import json

import pytest

from cli.helpers import assert_clean_error, invoke
from taste_groups import readers


def _data(tmp_path):
    """120 readers in two taste groups over 40 books (b39 rare, group B); authors: b39 'Rare Author', b0-b4
    'Group Author'."""
    rows = ["user,book,stars"]
    for user, picked, rng in readers(120, 40, per_user=9, rare_every=10):
        rows += [f"u{user},b{item},{int(rng.integers(3, 6))}" for item in picked]
    (tmp_path / "ratings.csv").write_text("\n".join(rows) + "\n")
    authors = {39: "Rare Author", **dict.fromkeys(range(5), "Group Author")}
    items = ["item_id,title,authors"] + [f"b{i},Book {i},{authors.get(i, f'Author {i}')}" for i in range(40)]
    (tmp_path / "books.csv").write_text("\n".join(items) + "\n")
    return ["--data", tmp_path / "ratings.csv", "--format", "csv", "--user-col", "user", "--item-col", "book",
            "--rating-col", "stars", "--items", tmp_path / "books.csv", "--model", "itemknn", "--k", "5",
            "--test-fraction", "0.3", "--seed", "1"]


TWO = """
overlap = "disjoint"

[[collective]]
name = "rare"
target_items = ["b39"]
participants = "closest"
size = 12

[[collective]]
name = "group"
target_authors = ["Group Author"]
participants = "closest"
size = 0.2
rating = 4
"""


def _toml(tmp_path, text, name="campaign.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_two_collectives_json(tmp_path):
    data = _data(tmp_path)
    result = invoke("campaign", "run", *data, "--campaign", _toml(tmp_path, TWO), "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["n_collectives"] == 2 and document["overlap"] == "disjoint"
    assert document["n_shared_users"] == 0
    rare, group = document["collectives"]
    assert rare["name"] == "rare" and rare["target_item_ids"] == ["b39"]
    assert group["target_authors"] == ["Group Author"] and len(group["target_item_ids"]) == 5
    assert rare["n_participants_joint"] == 12 and group["n_participants_joint"] == 24
    for c in (rare, group):
        assert c["effect_solo"] == pytest.approx(c["exposure_solo"] - c["exposure_before"])
        assert c["interaction"] == pytest.approx(c["effect_joint"] - c["effect_solo"] - c["spillover"])
        assert set(c["pareto"]) >= {"better_share", "worse_share", "participants_worse_share"}
    assert rare["effect_solo"] > 0
    assert [row["state"] for row in document["exposure"]] == ["before", "solo:rare", "solo:group", "joint"]
    again = invoke("campaign", "run", *data, "--campaign", _toml(tmp_path, TWO), "--json")
    assert json.loads(again.stdout)["collectives"] == document["collectives"]  # seeded: the same numbers


def test_collectives_are_scored_on_a_sample_with_sample_size(tmp_path):
    """--sample-size below the test users: every collective's audience and participants in full, the population's
    numbers from the sample; --score-users all scores everyone."""
    data = _data(tmp_path)
    args = ["campaign", "run", *data, "--campaign", _toml(tmp_path, TWO), "--json"]
    full = json.loads(invoke(*args, "--score-users", "all").stdout)
    lean = json.loads(invoke(*args, "--sample-size", "10").stdout)
    for small, every in zip(lean["collectives"], full["collectives"], strict=True):
        assert small["joint"]["n_sampled_users"] == 10 < every["joint"]["n_sampled_users"]
        assert small["joint"]["n_scored_users"] < every["joint"]["n_scored_users"]
        assert small["exposure_joint"] == every["exposure_joint"]
        assert small["joint"]["ndcg_participants_after"] == every["joint"]["ndcg_participants_after"]
    result = invoke(*args, "--score-users", "some")
    assert_clean_error(result, "--score-users must be one of needed, all; got 'some'")


def test_one_collective_in_a_file_is_the_flag_run(tmp_path):
    data = _data(tmp_path)
    one = '[[collective]]\ntarget_items = ["b39"]\nparticipants = "random"\nsize = 0.2\nparticipation = 0.8\n'
    composed = invoke("campaign", "run", *data, "--campaign", _toml(tmp_path, one), "--json")
    flags = invoke("campaign", "run", *data, "--target-items", "b39", "--participants", "random", "--size", "0.2",
                   "--participation", "0.8", "--json")
    assert composed.exit_code == 0 and flags.exit_code == 0, composed.output + flags.output
    single = json.loads(flags.stdout)
    (entry,) = json.loads(composed.stdout)["collectives"]
    for key, value in entry["joint"].items():
        assert single[key] == value, key
    assert entry["interaction"] == 0.0 and entry["campaign"] == single["campaign"]


def test_text_output_has_the_table(tmp_path):
    result = invoke("campaign", "run", *_data(tmp_path), "--campaign", _toml(tmp_path, TWO))
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "target exposure in each collective's own audience" in text
    assert "interaction = effect together - the sum" in text


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ('[[collective]]\ntarget_items = ["b39"]\ncolour = "red"\n', ["collective #1.colour: unknown field"]),
        ('[[collective]]\ntarget_items = ["b39"]\nparticipants = "closets"\n',
         ["collective #1.participants: must be one of", "did you mean 'closest'"]),
        ('[[collective]]\nname = "x"\nsize = 3\n', ["collective #1 ('x'): names no targets"]),
        ('[[collective]]\ntarget_items = ["b39"]\nsize = 1.5\n', ["collective #1.size"]),
        ('[[collective]]\ntarget_items = ["b39"]\naction = "boycott"\n', ["collective #1.action"]),
        ('[[collective]]\ntarget_items = ["b39"]\n[[collective]]\ntarget_items = ["b999"]\n',
         ["collective #2 ('c2').target_items", "b999"]),
        ('[[collective]]\ntarget_authors = ["Nobody Known"]\n', ["collective #1 ('c1').target_authors",
                                                                 "Nobody Known"]),
        ('[[collective]]\ntarget_items = ["b39"]\nparticipants = "explicit"\nmembers = ["u1", "nobody"]\n',
         ["collective #1 ('c1').members", "nobody"]),
        ('[[collective]]\ntarget_items = ["b39"]\nparticipants = "majority"\nsize = 110\n'
         '[[collective]]\ntarget_items = ["b39"]\nparticipants = "majority"\nsize = 5\n',
         ["already act in an earlier collective"]),
        ('[[collective]]\ntarget_items = ["b39"]\naction = "rate_low"\n', ["is not low for action 'rate_low'"]),
        ('overlap = "all"\n[[collective]]\ntarget_items = ["b39"]\n', ["overlap: must be one of disjoint, shared"]),
        ("collective = []\n", ["collective: List should have at least 1 item"]),
        ('what_if = "cold"\n[[collective]]\ntarget_items = ["b39"]\n', ["what_if: must be one of refit, fit"]),
        ("[[collective]\n", ["not valid TOML"]),
        ('[[collective]]\nname = "a"\ntarget_items = ["b39"]\n[[collective]]\nname = "a"\ntarget_items = ["b1"]\n',
         ["collective names must be distinct"]),
    ],
)
def test_bad_campaign_files_are_one_line(tmp_path, text, needles):
    result = invoke("campaign", "run", *_data(tmp_path), "--campaign", _toml(tmp_path, text), "--json")
    assert_clean_error(result, "campaign.toml", *needles)
    assert "Traceback" not in result.output


def test_campaign_file_excludes_the_single_collective_flags(tmp_path):
    data = _data(tmp_path)
    path = _toml(tmp_path, TWO)
    assert_clean_error(invoke("campaign", "run", *data, "--campaign", path, "--target-items", "b39"),
                       "--target-items", "describes every collective")
    assert_clean_error(invoke("campaign", "run", *data, "--campaign", path, "--size", "5"), "--size")
    assert_clean_error(invoke("campaign", "run", *data, "--campaign", tmp_path / "missing.toml"),
                       "missing.toml: no such config file")


def test_out_writes_the_rows_the_summary_and_the_report(tmp_path):
    from recollective.report.collectives_report import read_collective_rows

    out = tmp_path / "two"
    result = invoke("campaign", "run", *_data(tmp_path), "--campaign", _toml(tmp_path, TWO), "--out", out, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["written"] == [str(out / "collectives.csv"), str(out / "summary.json"), str(out / "report.html")]
    rows = read_collective_rows(out / "collectives.csv")
    assert [row["collective"] for row in rows] == ["rare", "group"]
    for row, collective in zip(rows, document["collectives"], strict=True):
        assert row["model"] == "itemknn" and row["dataset"] == "ratings.csv" and row["seed"] == 1
        for key in ("effect_solo", "effect_joint", "interaction", "exposure_before"):
            assert row[key] == pytest.approx(collective[key], abs=1e-15), key
    assert json.loads((out / "summary.json").read_text())["collectives"] == document["collectives"]
    html = (out / "report.html").read_text()
    assert html.index('id="summary"') < html.index('id="collectives"') < html.index('id="provenance"')
    assert 'data-models="itemknn"' in html
    again = invoke("report", out, "--out", tmp_path / "again.html")  # the folder is a report's input on its own
    assert again.exit_code == 0, again.output
    assert 'id="collectives"' in (tmp_path / "again.html").read_text()


def test_out_needs_a_campaign_file_and_a_folder(tmp_path):
    data = _data(tmp_path)
    assert_clean_error(invoke("campaign", "run", *data, "--target-items", "b39", "--out", tmp_path / "o"),
                       "--out", "needs --campaign")
    assert not (tmp_path / "o").exists()
    (tmp_path / "file").write_text("keep me\n")
    assert_clean_error(invoke("campaign", "run", *data, "--campaign", _toml(tmp_path, TWO), "--out",
                              tmp_path / "file"), "is a file")
    assert (tmp_path / "file").read_text() == "keep me\n"
