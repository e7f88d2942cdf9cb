"""The web app: the page, the task API, the model API and the OpenAPI document, behind the
guard (lsp_server.web.security). Starlette, because it is the well-kept ASGI toolkit that
llama-cpp-python's own server already brings in (through FastAPI), so it adds no dependency;
FastAPI's pydantic models would add a second schema layer to the typed code we have."""

from __future__ import annotations

import asyncio
import inspect
import logging
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from inference.stats import chart_data, read_stats
from lsp_server import __version__
from lsp_server.services import ModelUnavailable
from lsp_server.web import model_api, tasks_api
from lsp_server.web.core import WebCore
from lsp_server.web.security import TOKEN_COOKIE, Guard, GuardMiddleware
from lsp_server.web.tasks_api import ApiError, core_of, error

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
MAX_STATS = 5000  # the latest completion records the page plots


async def page(request: Request) -> Response:
    """The page; its first visit carries ?token=, which becomes a cookie."""
    token = request.query_params.get("token")
    if token:
        # Relative, so that the page also works behind a local proxy's path (code-server's
        # /proxy/PORT/); every URL the page uses is relative for the same reason.
        response: Response = RedirectResponse("./", status_code=303)
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return response
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


async def stats(request: Request) -> Response:
    """Completion statistics for the page's charts (inference.stats.chart_data), and the
    latest records, oldest first."""
    core = core_of(request)
    path = Path(core.stats_file) if core.stats_file else None
    records = (await asyncio.to_thread(read_stats, path))[-MAX_STATS:]
    return JSONResponse({"records": records, "charts": chart_data(records)})


async def info(request: Request) -> Response:
    core = core_of(request)
    return JSONResponse({"version": __version__, "model": core.model_name,
                         "workspace": str(core.manager.workspace)})  # fmt: skip


def openapi_document(routes: list[Route]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        summary = (inspect.getdoc(route.endpoint) or route.name).split("\n")[0]
        for method in sorted((route.methods or set()) - {"HEAD"}):
            paths.setdefault(route.path, {})[method.lower()] = {
                "summary": summary,
                "operationId": f"{route.name}_{method.lower()}",
                "responses": {"200": {"description": "OK"}, "400": {"description": "bad input"},
                              "401": {"description": "no or wrong token"},
                              "404": {"description": "no such task"}},
            }  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {"title": "treellama", "version": __version__},
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
        "security": [{"token": []}],
        "paths": paths,
    }


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document([*API_ROUTES, *model_api.ROUTES]))


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error(exc.status, str(exc), exc.code)


async def unavailable(request: Request, exc: Exception) -> Response:
    return error(503, f"the model cannot answer: {exc}", "model_not_loaded")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error(exc.status_code, str(exc.detail), "not_found" if exc.status_code == 404 else "")


async def crashed(request: Request, exc: Exception) -> Response:
    log.exception("web request %s %s failed", request.method, request.url.path)
    return error(500, f"treellama could not answer: {exc}", "internal_error")


API_ROUTES = [
    Route("/api/v1/info", info, methods=["GET"]),
    Route("/api/v1/stats", stats, methods=["GET"]),
    *tasks_api.ROUTES,
]


def create_app(core: WebCore, guard: Guard) -> Starlette:
    routes = [
        Route("/", page, methods=["GET"]),
        Route("/api/v1/openapi.json", openapi, methods=["GET"]),
        *API_ROUTES,
        *model_api.ROUTES,
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    handlers: dict[Any, Any] = {
        ApiError: api_error,
        ModelUnavailable: unavailable,
        HTTPException: http_error,
        Exception: crashed,
    }
    middleware = [Middleware(GuardMiddleware, guard=guard)]
    if guard.origins:
        # Outside the guard: a preflight carries no token, and is answered for these only.
        cors = Middleware(
            CORSMiddleware,
            allow_origins=sorted(guard.origins),
            allow_credentials=True,
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "last-event-id"],
        )
        middleware.insert(0, cors)
    app = Starlette(routes=routes, exception_handlers=handlers, middleware=middleware)
    app.state.core = core
    return app
