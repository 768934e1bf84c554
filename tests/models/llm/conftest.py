"""Fixtures of the LLM tests: a tiny randomly initialised Llama folder (made once per session) and book data."""

import pytest

from models.llm.tiny import book_interactions, tiny_llama


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    return str(tiny_llama(tmp_path_factory.mktemp("llm") / "tiny"))


@pytest.fixture(scope="module")
def data():
    return book_interactions()
