"""Benign versus malicious coordination: attacks, detectors, evaluation."""
