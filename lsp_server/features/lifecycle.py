"""initialize, initialized and configuration changes: the session's configuration and the
background model load."""

from __future__ import annotations

import asyncio
import logging
import os

from lsprotocol import types

from lsp_server.client_features import resolve_client_features
from lsp_server.index_startup import refresh_retrieval, start_index
from lsp_server.parent_watch import exit_when_gone
from lsp_server.server import TreellamaServer
from lsp_server.session import workspace_root_of
from lsp_server.startup_reports import report_config_problems, report_model_load
from lsp_server.web.embedded import start_web

log = logging.getLogger(__name__)


def register(server: TreellamaServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: TreellamaServer, params: types.InitializeParams) -> None:
        ls.session.client = resolve_client_features(
            params.capabilities, ls.workspace.position_encoding
        )
        ls.session.workspace_root = workspace_root_of(params)
        ls.session.editor_settings = params.initialization_options
        ls.session.pending_problems = ls.session.reload_config()
        # Loading starts now, on the model worker; progress can only be shown once the client
        # has our initialize response, so `initialized` reports on it.
        ls.models.load(ls.session.config.model, ls.session.config.backend)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: TreellamaServer, params: types.InitializedParams) -> None:
        if ls.process_id and ls.process_id != os.getpid():
            ls.parent_watch = asyncio.ensure_future(exit_when_gone(ls.process_id))
        report_config_problems(ls, ls.session.pending_problems)
        ls.index_task = asyncio.ensure_future(start_index(ls))
        await start_web(ls)
        if ls.models.loaded is not None:
            await report_model_load(ls, ls.models.loaded)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: TreellamaServer, params: types.DidChangeConfigurationParams
    ) -> None:
        settings = params.settings
        if settings is None and ls.session.client.configuration_pull:
            # The pull model: the notification only says "something changed"; ask for it.
            try:
                (settings,) = await ls.workspace_configuration_async(
                    types.ConfigurationParams(items=[types.ConfigurationItem(section="treellama")])
                )
            except Exception as exc:
                log.warning("workspace/configuration failed: %s", exc)
                return
        if settings is None:
            return
        before = ls.session.config
        ls.session.editor_settings = (
            {"treellama": settings} if "treellama" not in settings else settings
        )
        report_config_problems(ls, ls.session.reload_config())
        refresh_retrieval(ls)
        config = ls.session.config
        if (config.model, config.backend) != (before.model, before.backend):
            await report_model_load(ls, ls.models.load(config.model, config.backend))
