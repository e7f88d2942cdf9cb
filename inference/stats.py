"""Local completion statistics: acceptance, latency percentiles, tokens. Nothing leaves the machine.

Events are appended as JSON lines to `stats.jsonl` in the cache directory, so `treellama stats`
(a separate process) can summarise what every server session recorded.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from inference.paths import stats_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompletionEvent:
    id: str
    source: str  # "model", "cache" (typed ahead or repeated), "speculative"
    latency_ms: float
    prompt_tokens: int = 0
    evaluated_tokens: int = 0
    generated_tokens: int = 0
    length: int = 0  # characters suggested
    empty: bool = False


class StatsRecorder:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or stats_file()
        self._lock = threading.Lock()
        # The latest suggestions' lengths and texts, to measure partial accepts.
        self._suggestions: dict[str, tuple[int, str]] = {}

    def _append(self, record: dict[str, Any]) -> None:
        record["t"] = round(time.time(), 3)
        line = json.dumps(record, separators=(",", ":")) + "\n"
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(line)
        except OSError as exc:  # statistics must never break completion
            log.warning("could not record stats: %s", exc)

    def completion(self, event: CompletionEvent, text: str = "") -> None:
        with self._lock:
            self._suggestions[event.id] = (event.length, text)
            if len(self._suggestions) > 1024:
                self._suggestions.pop(next(iter(self._suggestions)))
        self._append({"event": "completion", **asdict(event)})

    def suggestion(self, completion_id: str) -> str | None:
        """The text of a recent suggestion, for a front end that must convert a client's
        accepted length (in its own code units) into characters."""
        with self._lock:
            known = self._suggestions.get(completion_id)
        return known[1] if known is not None else None

    def shown(self, completion_id: str) -> None:
        self._append({"event": "shown", "id": completion_id})

    def accepted(self, completion_id: str, accepted_chars: int | None) -> None:
        """`accepted_chars`: how much of the suggestion was taken, in characters (code
        points); None for all of it."""
        with self._lock:
            known = self._suggestions.get(completion_id)
        full = known[0] if known is not None else None
        length = full if accepted_chars is None else accepted_chars
        if full is not None and length is not None:
            length = min(length, full)
        self._append({"event": "accepted", "id": completion_id, "length": length, "of": full})


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[index], 1)


def summarize(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    completions: list[dict[str, Any]] = []
    shown: set[str] = set()
    accepted: dict[str, dict[str, Any]] = {}
    for record in records:
        kind = record.get("event")
        if kind == "completion":
            completions.append(record)
        elif kind == "shown":
            shown.add(str(record.get("id")))
        elif kind == "accepted":
            accepted[str(record.get("id"))] = record
    known = {str(c.get("id")) for c in completions}
    accepted = {cid: record for cid, record in accepted.items() if cid in known}
    shown &= known
    seen = shown | accepted.keys()  # an accepted suggestion was necessarily shown
    offered = [c for c in completions if not c.get("empty")]
    by_source: dict[str, list[float]] = {}
    for c in completions:
        by_source.setdefault(str(c.get("source")), []).append(float(c.get("latency_ms", 0)))
    partial = [a for a in accepted.values() if a.get("of") and a.get("length", 0) < a["of"]]
    chars_offered = sum(int(c.get("length", 0)) for c in offered if c.get("id") in accepted)
    chars_taken = sum(int(a.get("length") or 0) for a in accepted.values())
    return {
        "completions": len(completions),
        "nonEmpty": len(offered),
        "shown": len(seen),
        "accepted": len(accepted),
        "partialAccepts": len(partial),
        "acceptanceRate": round(len(accepted) / len(seen), 3) if seen else None,
        "acceptedCharsRatio": round(chars_taken / chars_offered, 3) if chars_offered else None,
        "latencyMs": {
            source: {"n": len(v), "p50": _percentile(v, 0.5), "p95": _percentile(v, 0.95)}
            for source, v in sorted(by_source.items())
        },
        "tokens": {
            "prompt": sum(int(c.get("prompt_tokens", 0)) for c in completions),
            "evaluated": sum(int(c.get("evaluated_tokens", 0)) for c in completions),
            "generated": sum(int(c.get("generated_tokens", 0)) for c in completions),
        },
    }


LATENCY_BINS = 12


def chart_data(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """What the web page plots: the acceptance rate by day (accepted over shown, as
    `summarize` counts them, by the completion's day, local time) and a histogram of the
    latencies of the completions, with their p50 and p95. Empty lists when there is no data."""
    records = list(records)
    completions = [r for r in records if r.get("event") == "completion"]
    shown = {str(r.get("id")) for r in records if r.get("event") in ("shown", "accepted")}
    accepted = {str(r.get("id")) for r in records if r.get("event") == "accepted"}
    days: dict[str, list[int]] = {}
    for record in completions:
        cid = str(record.get("id"))
        if cid not in shown:
            continue
        day = time.strftime("%Y-%m-%d", time.localtime(float(record.get("t", 0))))
        counts = days.setdefault(day, [0, 0])
        counts[0] += 1
        counts[1] += cid in accepted
    latencies = [float(r.get("latency_ms", 0)) for r in completions]
    histogram: list[dict[str, float]] = []
    if latencies:
        top = max(latencies)
        width = max(1.0, _round_up(top / LATENCY_BINS))
        counts_by_bin = [0] * (int(top // width) + 1)
        for latency in latencies:
            counts_by_bin[int(latency // width)] += 1
        histogram = [{"from": i * width, "to": (i + 1) * width, "count": n}
                     for i, n in enumerate(counts_by_bin)]  # fmt: skip
    acceptance = [
        {"day": day, "shown": n, "accepted": taken, "rate": round(taken / n, 3)}
        for day, (n, taken) in sorted(days.items())
    ]
    return {
        "acceptance": acceptance,
        "latency": {
            "bins": histogram,
            "n": len(latencies),
            "p50": _percentile(latencies, 0.5),
            "p95": _percentile(latencies, 0.95),
        },
    }


def _round_up(value: float) -> float:
    """A bin width people read easily: 1, 2 or 5 times a power of ten."""
    magnitude = 10 ** math.floor(math.log10(value)) if value > 0 else 1
    return next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= value)


def read_stats(path: Path | None = None) -> list[dict[str, Any]]:
    path = path or stats_file()
    records = []
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    records.append(json.loads(line))
                except ValueError:
                    continue  # a torn line from a crash: skip it
    except FileNotFoundError:
        pass
    return records
