"""Checks shared by the figure tests: every figure is ``<stem>.png``, ``.svg`` and ``.csv`` (the plotted numbers)."""

import csv
import math

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read_csv(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def check_files(paths, stem):
    """The three files exist side by side, are non-empty, and the PNG and SVG are what they claim to be."""
    assert [p.name for p in paths] == [stem.name + suffix for suffix in (".png", ".svg", ".csv")]
    for path in paths:
        assert path.is_file()
        assert path.stat().st_size > 0
    png, svg, _ = paths
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    text = svg.read_text(encoding="utf-8")
    assert text.startswith("<?xml") and "<svg" in text


def same(text: str, value: float) -> bool:
    """The CSV cell equals the double exactly (NaN equals NaN)."""
    number = float(text)
    return (math.isnan(number) and math.isnan(value)) or number == value
