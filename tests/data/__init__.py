"""Tests of recollective.data."""
