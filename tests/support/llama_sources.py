"""llama.cpp's own source and tools, for tests and benchmarks: from the llama-cpp-python sdist
of the installed version, so they are exactly the llama.cpp that treellama runs.

- `vocab(name)`: one of llama.cpp's tokenizer-only GGUFs (`models/ggml-vocab-*.gguf`, a few MB
  each), or one of tests.support.vocab_fixtures' (Codestral, CodeLlama), for FIM tokenization
  goldens of
  model families whose weights we do not install;
- `llama_server()`: the `llama-server` binary, built once with CMake (about 6 minutes on 2
  cores) and kept in treellama's cache, for testing the HTTP backend's llama-server APIs
  (`/infill`, `/completion`) against the real thing.

    python -m tests.support.llama_sources [--server]     # what `make test` runs first

PyPI is the only place this reaches (pip download of the sdist); the build itself is offline:
llama.cpp's web UI assets, which it would fetch, are turned off.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from inference.paths import cache_dir
from tests.support.servers import free_port, wait_until_serving

PACKAGE = "llama_cpp_python"


def version() -> str:
    return importlib.metadata.version(PACKAGE)


def sources_dir() -> Path:
    return cache_dir() / "llama-cpp-python" / version()


def llama_cpp_dir() -> Path:
    return sources_dir() / "vendor" / "llama.cpp"


def build_flags() -> str:
    """Extra compiler flags for llama.cpp (the Makefile's LLAMA_CPP_FLAGS: no AMX on x86)."""
    return os.environ.get("LLAMA_CPP_FLAGS", "").strip()


def server_dir() -> Path:
    return cache_dir() / "llama-server" / version()


def ensure_sources() -> Path:
    """The unpacked sdist of the installed llama-cpp-python; downloaded once."""
    target = sources_dir()
    if (target / "vendor" / "llama.cpp" / "CMakeLists.txt").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
             ":all:", f"llama-cpp-python=={version()}", "-d", scratch],
            check=True,
        )  # fmt: skip
        (archive,) = Path(scratch).glob("*.tar.gz")
        with tarfile.open(archive) as tar:
            tar.extractall(scratch, filter="data")
        (unpacked,) = (p for p in Path(scratch).iterdir() if p.is_dir())
        unpacked.rename(target)  # atomic: a half-unpacked tree is never seen as done
    return target


def gguf_py() -> Any:
    """llama.cpp's own gguf-py (its GGUF reader and writer), from the sources."""
    ensure_sources()
    path = str(llama_cpp_dir() / "gguf-py")
    if path not in sys.path:
        sys.path.insert(0, path)
    import gguf

    return gguf


def vocab(name: str) -> Path | None:
    """`models/ggml-vocab-<name>.gguf` from llama.cpp, or one built by tests.support.vocab_fixtures,
    if it is here."""
    from tests.support.vocab_fixtures import built_vocab

    path = llama_cpp_dir() / "models" / f"ggml-vocab-{name}.gguf"
    return path if path.is_file() else built_vocab(name)


def llama_server() -> Path | None:
    path = server_dir() / "llama-server"
    return path if path.is_file() else None


def ensure_llama_server() -> Path:
    """Builds llama-server from the sources (CPU only, no web UI), once per version and set
    of compiler flags (recorded beside the binary)."""
    found = llama_server()
    flags_file = server_dir() / "build-flags.txt"
    built_with = flags_file.read_text().strip() if flags_file.is_file() else ""
    if found is not None and built_with == build_flags():
        return found
    source = ensure_sources() / "vendor" / "llama.cpp"
    cmake = find_cmake()
    build = server_dir().with_name(server_dir().name + ".build")
    jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
    shutil.rmtree(build, ignore_errors=True)  # a build cut short leaves a stale cache
    subprocess.run(
        [cmake, "-S", str(source), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
         "-DLLAMA_BUILD_UI=OFF", "-DLLAMA_USE_PREBUILT_UI=OFF",
         "-DLLAMA_OPENSSL=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
         "-DLLAMA_BUILD_APP=OFF", f"-DCMAKE_C_FLAGS={build_flags()}",
         f"-DCMAKE_CXX_FLAGS={build_flags()}"],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    subprocess.run(
        [cmake, "--build", str(build), "--target", "llama-server", "-j", jobs],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    shutil.rmtree(server_dir(), ignore_errors=True)
    install_server(build / "bin")
    flags_file.write_text(build_flags() + "\n")
    shutil.rmtree(build, ignore_errors=True)
    return server_dir() / "llama-server"


def find_cmake() -> str:
    """The machine's CMake, or the one from PyPI installed into this environment."""
    scripts = str(Path(sys.executable).parent)
    found = shutil.which("cmake") or shutil.which("cmake", path=scripts)
    if found:
        return found
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "cmake"], check=True)
    return str(Path(scripts) / "cmake")


def install_server(built: Path) -> None:
    """Copies the binary and llama.cpp's shared libraries next to each other; the binary is
    copied last, so that its presence means the install is whole."""
    server_dir().mkdir(parents=True, exist_ok=True)
    for library in built.glob("lib*.so*"):
        shutil.copy2(library, server_dir() / library.name, follow_symlinks=False)
    partial = server_dir() / "llama-server.partial"
    shutil.copy2(built / "llama-server", partial)
    partial.rename(server_dir() / "llama-server")


@contextlib.contextmanager
def running_llama_server(binary: Path, model: Path, n_ctx: int, threads: int) -> Iterator[str]:
    """llama-server on loopback with `model`; yields its base URL, stops it afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [str(binary), "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
         "--ctx-size", str(n_ctx), "--threads", str(threads), "--parallel", "1", "--no-ui",
         # llama-server drops /infill's input_extra unless the context has room beyond a
         # batch; its default batch (2048) would leave none in a 2048-token context.
         "--batch-size", "512"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "LD_LIBRARY_PATH": str(binary.parent)},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{base}/health", process, f"llama-server ({binary})")
        yield base
    finally:
        # llama-server sometimes finishes a request it was given before honouring SIGTERM
        # (seen once in a clean-clone run: still up after 30 s); then it is killed.
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", action="store_true", help="also build llama-server")
    args = parser.parse_args()
    print(f"llama.cpp sources: {ensure_sources()}")
    from tests.support.vocab_fixtures import ensure_vocabs

    for name, path in ensure_vocabs().items():
        print(f"vocabulary {name}: {path}")
    if args.server:
        if llama_server() is None:
            print("building llama-server (once per llama-cpp-python version; ~6 min on 2 cores)")
        print(f"llama-server: {ensure_llama_server()}")


if __name__ == "__main__":
    main()
