"""Indexing a large real codebase: Django's sdist (about 2,900 Python and JavaScript files).

Each phase runs in its own process, so that its peak RSS is its own:
  raw          read and tree-sitter-parse every indexable file, one thread: the baseline;
  cold         build the index from nothing (worker processes, as the server does);
  warm         open the index again and bring it up to date with nothing changed: a restart;
  incremental  change one file on disk and re-index it, for 100 files picked at random;
               also an open document's text re-indexed from the editor buffer;
  retrieval    gather completion context at 100 random cursors (no time cap applied).
Ratios are against `raw`, measured in the same run.

    python -m bench.indexing [--version 5.2.8]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import save, summary
from inference.paths import cache_dir

INCREMENTAL_FILES = 100


def fetch_sdist(name: str, version: str) -> Path:
    """Downloads and unpacks an sdist once; later runs reuse it."""
    root = cache_dir() / "bench" / f"{name}-{version}"
    if root.is_dir():
        return root
    download = Path(tempfile.mkdtemp(prefix="treellama-sdist-"))
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
         "--quiet", f"{name}=={version}", "-d", str(download)],
        check=True,
    )  # fmt: skip
    (archive,) = download.glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(download, filter="data")
    root.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(download / f"{name}-{version}"), root)
    shutil.rmtree(download, ignore_errors=True)
    return root


def peak_rss_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


def phase_raw(root: Path, db: Path) -> dict:
    from indexing.ignore import IgnoreRules, walk
    from indexing.languages import EXTENSIONS, language_for
    from indexing.parsing import parse
    from indexing.settings import IndexSettings

    started = time.perf_counter()
    files = walk(IgnoreRules(root, IndexSettings().exclude), EXTENSIONS)
    for relative, _ in files:
        language = language_for(None, relative)
        if language is not None:
            parse((root / relative).read_bytes(), language)
    return {"files": len(files), "seconds": time.perf_counter() - started}


def _open(root: Path, db: Path) -> Any:
    from indexing.settings import IndexSettings
    from indexing.workspace import WorkspaceIndex

    return WorkspaceIndex(root, IndexSettings(), db)


def phase_scan(root: Path, db: Path) -> dict:
    started = time.perf_counter()
    index = _open(root, db)
    result = index.scan()
    seconds = time.perf_counter() - started
    stats = {
        "files": result.files,
        "indexed": result.indexed,
        "seconds": seconds,
        "db_mib": round(db.stat().st_size / 2**20, 1),
    }
    index.close()
    return stats


def phase_incremental(root: Path, db: Path) -> dict:
    index = _open(root, db)
    index.scan()
    paths = sorted(index.store.files())
    picks = random.Random(0).sample(paths, min(INCREMENTAL_FILES, len(paths)))
    disk_ms, buffer_ms = [], []
    for relative in picks:
        path = root / relative
        original = path.read_bytes()
        try:
            edited = (
                original + b"\n// edit\n" if relative.endswith(".js") else original + b"\n# edit\n"
            )
            path.write_bytes(edited)
            started = time.perf_counter()
            index.update_paths([str(path)])
            disk_ms.append((time.perf_counter() - started) * 1000)
            text = edited.decode("utf-8", errors="replace") + "\n"
            started = time.perf_counter()
            index.update_document(str(path), text)
            buffer_ms.append((time.perf_counter() - started) * 1000)
        finally:
            path.write_bytes(original)
            index.close_document(str(path))
    index.close()
    return {"disk_ms": summary(disk_ms), "buffer_ms": summary(buffer_ms)}


def phase_retrieval(root: Path, db: Path) -> dict:
    """Gathering context for completions at 100 random cursors, with no time cap, so that the
    cap's headroom shows."""
    from indexing.retrieval import Retriever

    index = _open(root, db)
    index.scan()
    retriever = Retriever(index)
    retriever.graph()
    time.sleep(0.2)
    while retriever._graph[0] < 0:  # the file graph is built once, on the indexer thread
        time.sleep(0.05)
    rng = random.Random(1)
    paths = sorted(p for p in index.store.files() if p.endswith(".py"))
    elapsed, counts = [], []
    for relative in rng.sample(paths, min(100, len(paths))):
        text = (root / relative).read_text(encoding="utf-8", errors="replace")
        line = rng.randrange(max(1, text.count("\n")))
        found = retriever.retrieve(root / relative, text, line, window_start=max(0, line - 256),
                                   budget_ms=10_000)  # fmt: skip
        elapsed.append(found.elapsed_ms)
        counts.append(len(found.snippets))
    index.close()
    return {"ms": summary(elapsed), "snippets_mean": round(sum(counts) / len(counts), 1)}


PHASES = {
    "raw": phase_raw,
    "cold": phase_scan,
    "warm": phase_scan,
    "incremental": phase_incremental,
    "retrieval": phase_retrieval,
}


def run_phase(phase: str, root: Path, db: Path) -> dict:
    output = subprocess.run(
        [sys.executable, "-m", "bench.indexing", "--phase", phase, "--root", str(root),
         "--db", str(db)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="5.2.8")
    parser.add_argument("--phase", choices=PHASES)
    parser.add_argument("--root", type=Path)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    if args.phase:
        result = PHASES[args.phase](args.root, args.db)
        result["peak_rss_mib"] = peak_rss_mib()
        print(json.dumps(result))
        return

    root = fetch_sdist("django", args.version)
    work = Path(tempfile.mkdtemp(prefix="treellama-bench-index-"))
    db = work / "index.sqlite3"
    try:
        raw = run_phase("raw", root, db)
        cold = run_phase("cold", root, db)
        warm = run_phase("warm", root, db)
        incremental = run_phase("incremental", root, db)
        retrieval = run_phase("retrieval", root, db)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results = {
        "codebase": f"django-{args.version} sdist",
        "cpus": os.cpu_count(),
        "raw": raw,
        "cold": cold,
        "warm": warm,
        "incremental": incremental,
        "retrieval": retrieval,
        "cold_over_raw": round(cold["seconds"] / raw["seconds"], 2),
    }
    save("indexing-django", results)
    print(f"files: {raw['files']} ({os.cpu_count()} CPUs)")
    print(f"raw parse, 1 thread   {raw['seconds']:7.2f} s   peak RSS {raw['peak_rss_mib']} MiB")
    print(
        f"cold index            {cold['seconds']:7.2f} s   = {results['cold_over_raw']}x raw"
        f"   (target <= 2x)   peak RSS {cold['peak_rss_mib']} MiB, database {cold['db_mib']} MiB"
    )
    print(
        f"warm restart          {warm['seconds']:7.2f} s   (target <= 1 s),"
        f" {warm['indexed']} re-read"
    )
    disk, buffer = incremental["disk_ms"], incremental["buffer_ms"]
    print(
        f"one-file update       p50 {disk['p50']} ms  p95 {disk['p95']} ms (target p95 <= 20 ms);"
        f" from the editor buffer p50 {buffer['p50']} ms  p95 {buffer['p95']} ms"
    )
    gathered = retrieval["ms"]
    print(
        f"retrieval for a cursor  p50 {gathered['p50']} ms  p95 {gathered['p95']} ms"
        f" (the completion path caps it at 60 ms), {retrieval['snippets_mean']} snippets"
    )


if __name__ == "__main__":
    main()
