"""One real default model, loaded once per test session and shared by these tests."""

from __future__ import annotations

import pytest

from inference.engine import LlamaEngine
from inference.model_manager import resolve_model
from inference.settings import ModelSettings


@pytest.fixture(scope="session")
def engine() -> LlamaEngine:
    model = resolve_model(ModelSettings())
    return LlamaEngine(model.path, ModelSettings(n_ctx=2048))


@pytest.fixture(scope="session")
def second_engine() -> LlamaEngine:
    """A second context on the same file, used cold as the reference."""
    model = resolve_model(ModelSettings())
    return LlamaEngine(model.path, ModelSettings(n_ctx=2048))
