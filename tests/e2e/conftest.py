"""pytest-lsp fixtures that spawn the real `treellama serve` over stdio with real editors'
client capabilities. The server loads the real embedded model; generations are kept short.
The helpers behind them are in tests/support/lsp_client.py."""

from __future__ import annotations

import pytest
import pytest_lsp
from pytest_lsp import LanguageClient

from tests.support import message_guard
from tests.support.lsp_client import (
    EMPTY_CACHE,
    INDEX_PROJECT,
    initialize_params,
    server_config,
)

pytestmark = pytest.mark.e2e
message_guard.install()


@pytest.fixture(autouse=True)
def no_empty_error_messages():
    """Every error and message a client got during the test says what is wrong; none is
    empty or ends in an empty "Fix:"."""
    start = len(message_guard.SEEN)
    yield
    seen = message_guard.SEEN[start:]
    assert not message_guard.empty_messages(seen), seen


@pytest_lsp.fixture(params=["neovim", "visual_studio_code"], config=server_config())
async def client(request, lsp_client: LanguageClient):
    lsp_client.editor = request.param
    lsp_client.init_result = await lsp_client.initialize_session(initialize_params(request.param))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=server_config())
async def vscode(lsp_client: LanguageClient):
    await lsp_client.initialize_session(initialize_params("visual_studio_code"))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(
    config=server_config(
        TREELLAMA_COMPLETION_MAX_TOKENS="4000",
        TREELLAMA_COMPLETION_MAX_LINES="500",
        TREELLAMA_COMPLETION_MAX_PREDICT_MS="120000",
    )
)
async def long_generation(lsp_client: LanguageClient):
    await lsp_client.initialize_session(initialize_params("visual_studio_code"))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=server_config(TREELLAMA_CACHE_DIR=EMPTY_CACHE))
async def no_model(lsp_client: LanguageClient):
    await lsp_client.initialize_session(initialize_params("visual_studio_code"))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(
    params=["neovim", "visual_studio_code"], config=server_config(TREELLAMA_CACHE_DIR=EMPTY_CACHE)
)
async def indexed(request, lsp_client: LanguageClient):
    """The multi-file project, with no model at all: the index needs none."""
    await lsp_client.initialize_session(initialize_params(request.param, root=INDEX_PROJECT))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=server_config(TREELLAMA_INDEX_RETRIEVAL="on"))
async def indexed_with_model(lsp_client: LanguageClient):
    """The multi-file project with the model loaded and retrieval in the prompt."""
    await lsp_client.initialize_session(initialize_params("visual_studio_code", root=INDEX_PROJECT))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=server_config())
async def bad_config(lsp_client: LanguageClient):
    options = {"treellama": {"completion": {"maxLines": "lots", "colour": 1}, "nonsense": {}}}
    await lsp_client.initialize_session(initialize_params("visual_studio_code", options))
    yield
    await lsp_client.shutdown_session()
