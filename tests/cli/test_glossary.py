"""The plain-words lines beside the CLI's jargon (cli/_glossary.py)."""

import math

from recollective.cli._glossary import amplification_lines, inverted_auc_lines, radius_lines, uncertified_lines


def test_nothing_to_explain_prints_nothing():
    assert uncertified_lines([], 10.0) == []
    assert amplification_lines(1.5, 3.0) == [] and amplification_lines(None, None) == []
    assert inverted_auc_lines([{"detector": "pca", "roc_auc": 0.7}, {"detector": "burst", "roc_auc": None}]) == []


def _text(lines) -> str:
    return " ".join(line.strip() for line in lines)


def test_infinite_and_undefined_amplification():
    lines = amplification_lines(math.nan, math.inf)
    assert lines[0].startswith("  amplification –: undefined") and lines[1].startswith("    ")
    assert "amplification inf: the targets were recommended while items as frequent in training never were" in (
        _text(lines))
    assert _text(lines).endswith("Read the target exposure rows (the absolute change) instead.")
    assert "amplification –" not in _text(amplification_lines(0.0, math.inf))


def test_radius_and_auc_lines_name_the_cause():
    assert _text(radius_lines(0.0, "tie at user 7")).endswith(
        "Here user 7's top item is decided by a tie (as for every suppressed minority user under truthful play). "
        "See docs/windows.md.")
    assert "Here the rank constraint leaves no room." in _text(radius_lines(0.0, "rank"))
    assert radius_lines(0.25, "margin of user 3")[0].startswith("  certified radius 0.25: every change")
    rows = [{"detector": "fraudar", "roc_auc": 0.1}, {"detector": "pca", "roc_auc": 0.3},
            {"detector": "pca", "roc_auc": 0.3}, {"detector": "features", "roc_auc": 0.9}]
    assert inverted_auc_lines(rows, "the attackers")[0].startswith(
        "  AUC < 0.5 (fraudar, pca): the detector ranks the attackers as *less* suspicious than ordinary users")


def test_every_line_fits_a_wide_terminal():
    lines = (uncertified_lines([(0.0, 0.0195)] * 512, 10.0) + radius_lines(0.0, "tie at user 60")
             + amplification_lines(math.nan, math.inf) + inverted_auc_lines([{"detector": "pca", "roc_auc": 0.2}]))
    assert all(len(line) <= 118 for line in lines), max(lines, key=len)
