"""Which model file to load, whether it is the right one, and loading it onto the worker.

A registered model is looked up in the cache; a user's GGUF is taken by path. The file is
checked against its expected size and sha256 before llama.cpp sees it. Hashing half a gigabyte
takes about a second, so a verified (path, size, mtime) is remembered in the cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from inference.backend import CompletionEngine
from inference.install import file_sha256
from inference.paths import cache_dir, models_dir
from inference.registry import MODELS, get_model_spec
from inference.settings import BackendSettings, ModelSettings
from inference.worker import ModelWorker, Priority

log = logging.getLogger(__name__)


class ModelUnavailable(Exception):
    """The configured model cannot be used. `fix` tells the user what to do about it."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}. Fix: {self.fix}"


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    path: Path
    size: int | None
    sha256: str | None


def resolve_model(settings: ModelSettings) -> ResolvedModel:
    if settings.path:
        path = Path(settings.path).expanduser()
        if not path.is_file():
            raise ModelUnavailable(
                f"model file {path} does not exist",
                "set model.path to an existing GGUF file, or unset it to use "
                f"the default model ({settings.name})",
            )
        return ResolvedModel(path.name, path, None, settings.sha256.lower() or None)
    if settings.name not in MODELS:
        raise ModelUnavailable(
            f"unknown model {settings.name!r}",
            f"set model.name to one of {', '.join(sorted(MODELS))}, or model.path to a GGUF",
        )
    spec = get_model_spec(settings.name)
    path = models_dir() / spec.filename
    if not path.is_file():
        raise ModelUnavailable(
            f"model {spec.name} is not installed",
            f"run `treellama model install {spec.name}`",
        )
    return ResolvedModel(spec.name, path, spec.size, spec.sha256)


def _marker_path(path: Path) -> Path:
    key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32]
    return cache_dir() / "verified" / f"{key}.json"


def verify_model(model: ResolvedModel) -> bool:
    """Raises ModelUnavailable on a mismatch; returns True if a hash was checked."""
    stat = model.path.stat()
    if model.size is not None and stat.st_size != model.size:
        raise ModelUnavailable(
            f"{model.path} is {stat.st_size:,} bytes, expected {model.size:,}",
            f"reinstall it: delete the file and run `treellama model install {model.name}`",
        )
    if model.sha256 is None:
        return False
    fingerprint = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": model.sha256}
    marker = _marker_path(model.path)
    try:
        if json.loads(marker.read_text()) == fingerprint:
            return True
    except (OSError, ValueError):
        pass
    actual = file_sha256(model.path)
    if actual != model.sha256:
        raise ModelUnavailable(
            f"{model.path} has sha256 {actual}, expected {model.sha256}",
            f"reinstall it: delete the file and run `treellama model install {model.name}`",
        )
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps(fingerprint))
    except OSError as exc:
        log.warning("could not remember the verified hash of %s: %s", model.path, exc)
    return True


class ModelState(str, Enum):
    NOT_LOADED = "not_loaded"
    LOADING = "loading"
    READY = "ready"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class ModelStatus:
    state: ModelState
    name: str = ""
    message: str = ""
    fix: str = ""
    load_ms: float = 0.0
    info: Any = None  # engine.ModelInfo once loaded

    def problem(self) -> str:
        """Why the model cannot be used now, and what to do about it. Every state has words
        here, so no error reaches the user as an empty "Fix:"."""
        message, fix = self.message, self.fix
        model = f"the model {self.name}" if self.name else "the model"
        if self.state is ModelState.NOT_LOADED:
            message = message or "no model has been loaded yet"
            fix = fix or "set model.name or model.path in the configuration, then reload it"
        elif self.state is ModelState.LOADING:
            message = message or f"{model} is still loading"
            fix = fix or "wait a moment and try again (see `treellama.status`)"
        elif self.state is ModelState.READY:  # asked anyway: say so rather than nothing
            message, fix = message or f"{model} is ready", fix or "nothing to fix"
        message = message or "the model cannot be used"
        fix = fix or "run `treellama doctor` to see what is wrong"
        return f"{message}. Fix: {fix}"


EngineFactory = Callable[[Path, ModelSettings], Any]


def _default_engine_factory(path: Path, settings: ModelSettings) -> CompletionEngine:
    from inference.engine import LlamaEngine

    return LlamaEngine(path, settings)


class ModelManager:
    def __init__(
        self, worker: ModelWorker, engine_factory: EngineFactory = _default_engine_factory
    ) -> None:
        self._worker = worker
        self._engine_factory = engine_factory
        self._lock = threading.Lock()
        self._status = ModelStatus(ModelState.NOT_LOADED)
        self._loaded: Future[ModelStatus] | None = None

    @property
    def status(self) -> ModelStatus:
        with self._lock:
            return self._status

    @property
    def loaded(self) -> Future[ModelStatus] | None:
        """Resolves once the latest load finished, successfully or not."""
        return self._loaded

    def load(
        self, settings: ModelSettings, backend: BackendSettings | None = None
    ) -> Future[ModelStatus]:
        backend = backend or BackendSettings()
        with self._lock:
            name = backend.url if backend.kind == "http" else settings.path or settings.name
            self._status = ModelStatus(ModelState.LOADING, name)
            self._loaded = self._worker.submit(
                lambda engine, cancel: self._load(settings, backend), Priority.LOAD
            )
            return self._loaded

    def _load(self, settings: ModelSettings, backend: BackendSettings) -> ModelStatus:
        started = time.monotonic()
        self._worker.set_engine(None)  # free the old model before loading the new one
        if backend.kind == "http":
            return self._connect(backend, started)
        try:
            model = resolve_model(settings)
            verify_model(model)
            engine = self._engine_factory(model.path, settings)
        except ModelUnavailable as exc:
            status = ModelStatus(ModelState.UNAVAILABLE, settings.name, exc.message, exc.fix)
        except Exception as exc:  # llama.cpp rejects the file: corrupt, wrong format...
            log.exception("loading the model failed")
            status = ModelStatus(
                ModelState.UNAVAILABLE,
                settings.path or settings.name,
                f"llama.cpp could not load the model: {exc}",
                "check that the file is a GGUF model, or run `treellama doctor`",
            )
        else:
            self._worker.set_engine(engine)
            status = ModelStatus(
                ModelState.READY,
                model.name,
                f"{model.name} ready",
                load_ms=(time.monotonic() - started) * 1000,
                info=engine.info,
            )
        return self._settle(status)

    def _settle(self, status: ModelStatus) -> ModelStatus:
        with self._lock:
            self._status = status
        log.info("model status: %s %s %s", status.state.value, status.message, status.fix)
        return status

    def _connect(self, backend: BackendSettings, started: float) -> ModelStatus:
        from inference.http_backend import BackendUnavailable, HttpEngine

        try:
            engine: CompletionEngine = HttpEngine(backend)
        except BackendUnavailable as exc:
            return self._settle(
                ModelStatus(
                    ModelState.UNAVAILABLE,
                    backend.url,
                    f"the model server is unavailable: {exc}",
                    f"start the server at {backend.url or 'backend.url'}, or set "
                    'backend.kind = "local" to run the model in-process',
                )
            )
        self._worker.set_engine(engine)
        return self._settle(
            ModelStatus(
                ModelState.READY,
                backend.url,
                f"{backend.url} ({backend.api}) ready",
                load_ms=(time.monotonic() - started) * 1000,
                info=engine.info,
            )
        )
