import time

from inference.completion import cap_suffix
from inference.context import ContextRing, jaccard, line_set, pack_chunks
from inference.fim import ContextChunk
from inference.kv_reuse import Run, plan_reuse
from inference.stats import StatsRecorder, read_stats, summarize
from inference.suggestion_cache import SuggestionCache


def test_reuse_plan_keeps_prefix_and_moves_later_runs():
    cached = list(range(100))
    # A chunk (tokens 10-39) left the prompt: the head stays, the rest moves 30 places down.
    plan = plan_reuse(cached, list(range(10)) + list(range(40, 100)), min_run=16)
    assert plan.prefix == 10
    assert plan.runs == (Run(40, 10, 59),)  # the last token is always decoded again
    assert plan.new_segments() == [(69, 70)]
    # Three new tokens were inserted at 50: the run after them moves up.
    plan = plan_reuse(cached, [*range(50), 7, 8, 9, *range(50, 100)], min_run=16)
    assert plan.prefix == 50
    assert plan.runs == (Run(50, 53, 49),)
    assert plan.new_segments() == [(50, 53), (102, 103)]
    assert plan.reused == 99


def test_reuse_plan_stops_after_a_change_inside_the_core():
    cached = list(range(100))
    # The core starts at 60. A change before it: the core may move whole.
    plan = plan_reuse(cached, [*range(20), 555, *range(30, 100)], min_run=16, limit=51)
    assert plan.runs == (Run(30, 21, 69),)
    # A change inside the core (at 80): nothing after it is kept.
    plan = plan_reuse(cached, [*range(80), 555, *range(81, 100)], min_run=16, limit=60)
    assert plan.prefix == 80 and plan.runs == ()


def test_reuse_plan_ignores_short_runs():
    plan = plan_reuse([1, 2, 3, 4, 5, 6], [9, 3, 4, 5], min_run=16)
    assert plan.runs == () and plan.reused == 0


def test_ring_dedupes_near_duplicates_and_evicts_oldest():
    ring = ContextRing(capacity=2, chunk_lines=8)
    body = "\n".join(f"line {i}" for i in range(30))
    ring.add(ContextChunk("a.py", body))
    ring.add(ContextChunk("a.py", body + "\nline 30"))  # similar: replaces
    assert [c.text for c in ring.chunks_for("x", 0)] == [body + "\nline 30"]
    ring.add(ContextChunk("b.py", "other\nstuff"))
    ring.add(ContextChunk("c.py", "third\nchunk"))
    assert [c.path for c in ring.chunks_for("x", 0)] == ["b.py", "c.py"]
    assert jaccard(line_set("a\nb"), line_set("b\na")) == 1.0


def test_leaving_a_document_makes_its_region_a_chunk():
    ring = ContextRing(capacity=4, chunk_lines=4)
    a_text = "\n".join(f"a{i}" for i in range(20))
    ring.note_cursor("file:///a.py", "a.py", a_text, 10)
    assert ring.chunks_for("file:///b.py", 0) == ()
    ring.note_cursor("file:///b.py", "b.py", "b0\nb1", 1)
    (chunk,) = ring.chunks_for("file:///b.py", 1)
    assert chunk.path == "a.py" and chunk.source == "viewed"
    assert chunk.text == "a8\na9\na10\na11"
    # A chunk of the current document that the local window already shows is left out.
    assert ring.chunks_for("file:///a.py", 10) == ()


def test_pack_chunks_prefers_recent_and_keeps_order():
    chunks = [ContextChunk(f"f{i}", "x" * 40) for i in range(5)]
    packed = pack_chunks(chunks, budget_tokens=100, count_tokens=len)
    assert [c.path for c in packed] == ["f3", "f4"]


def test_suggestion_cache_exact_and_typed_ahead():
    cache = SuggestionCache()
    text = "def f(x):\n    \nprint(f(2))\n"
    offset = text.index("\nprint")
    cache.put("u", text, offset, "return x * 2")
    assert cache.get("u", text, offset) == "return x * 2"
    typed = text[:offset] + "return x" + text[offset:]
    assert cache.get("u", typed, offset + len("return x")) == " * 2"
    wrong = text[:offset] + "yield" + text[offset:]
    assert cache.get("u", wrong, offset + 5) is None
    assert cache.get("other", text, offset) is None
    changed_after = text[:offset] + text[offset:].replace("2", "3")
    assert cache.get("u", changed_after, offset) is None


def test_stats_summary(tmp_path):
    from inference.stats import CompletionEvent

    recorder = StatsRecorder(tmp_path / "stats.jsonl")
    for i, latency in enumerate([100, 200, 300, 400]):
        recorder.completion(CompletionEvent(f"c{i}", "model", latency, 50, 10, 5, 20))
    recorder.completion(CompletionEvent("e", "model", 90, empty=True))
    recorder.completion(CompletionEvent("k", "cache", 0.4, length=8))
    for cid in ("c0", "c1", "c2", "k"):
        recorder.shown(cid)
    recorder.accepted("c0", None)
    recorder.accepted("c1", 5)
    recorder.accepted("c3", None)  # accepted without a didShow: it was shown all the same
    recorder.accepted("unknown", 3)  # not ours: ignored
    summary = summarize(read_stats(tmp_path / "stats.jsonl"))
    assert summary["completions"] == 6 and summary["nonEmpty"] == 5
    assert summary["shown"] == 5 and summary["accepted"] == 3 and summary["partialAccepts"] == 1
    assert summary["acceptanceRate"] == 0.6
    assert summary["acceptedCharsRatio"] == round(45 / 60, 3)
    assert summary["latencyMs"]["model"]["p50"] in (200.0, 300.0)
    assert summary["latencyMs"]["cache"]["n"] == 1
    assert summary["tokens"] == {"prompt": 200, "evaluated": 40, "generated": 20}


def test_suffix_is_capped_to_whole_lines_within_its_token_budget():
    def words(text: str) -> int:  # one "token" per word: enough to test the cut
        return len(text.split())

    suffix = " a b\nc d e\nf g\nh i j k\n"
    assert cap_suffix(suffix, 100, words) == suffix
    assert cap_suffix(suffix, 6, words) == " a b\nc d e\n"  # "f g" would make 7
    assert cap_suffix(suffix, 7, words) == " a b\nc d e\nf g\n"
    # The rest of the cursor's line is always kept, cut down if it alone is too long.
    assert cap_suffix(" a b c d e f g h i j\nk\n", 2, words) == " a b\n"
    assert cap_suffix(suffix, 0, words) == ""


def test_retrieval_goes_into_prompts_as_measured() -> None:
    from inference.context import retrieval_helps

    assert not retrieval_helps("auto", 494_000_000) and not retrieval_helps("auto", 1_540_000_000)
    assert retrieval_helps("auto", 7_000_000_000) and retrieval_helps("auto", 0)  # 0: remote
    assert not retrieval_helps("auto", None)  # no model loaded
    assert retrieval_helps("on", 494_000_000) and not retrieval_helps("off", 7_000_000_000)


def test_candidates_are_batched_as_many_as_fit_the_context_with_their_whole_budget():
    from inference.candidates import MAX_CANDIDATES, expected_tokens, fitting_groups

    assert fitting_groups(6, 4096, 1000, 256) == [range(0, 6)]  # all fit side by side
    # A 90-line function's rewrites after a 1,781-token prompt: 2 a batch, not 384 tokens each.
    assert fitting_groups(6, 4096, 1781, 1024) == [range(0, 2), range(2, 4), range(4, 6)]
    assert fitting_groups(3, 2048, 1900, 1024) == [range(0, 1), range(1, 2), range(2, 3)]
    assert fitting_groups(12, 1 << 16, 100, 100) == [range(0, MAX_CANDIDATES), range(8, 12)]
    # Batched by what a rewrite needs (about its draft), not by its budget (twice that).
    assert expected_tokens(794, [1] * 330) == 444
    assert expected_tokens(794, []) == 794
    assert fitting_groups(6, 4096, 2406, expected_tokens(794, [1] * 330)) == [
        range(0, 3),
        range(3, 6),
    ]


def test_chart_data_counts_acceptance_over_shown_by_day_and_bins_latencies() -> None:
    from inference.stats import chart_data

    day = 1_765_000_000.0
    records = [{"event": "completion", "id": f"c{i}", "latency_ms": 50.0 * i, "t": day}
               for i in range(1, 11)]  # fmt: skip
    records += [{"event": "shown", "id": "c1"}, {"event": "shown", "id": "c2"}]
    records += [{"event": "accepted", "id": "c3"}]  # accepted, so shown too
    data = chart_data(records)
    (only,) = data["acceptance"]
    assert (only["shown"], only["accepted"], only["rate"]) == (3, 1, 0.333)
    assert only["day"] == time.strftime("%Y-%m-%d", time.localtime(day))  # not 1970-01-01
    latency = data["latency"]
    assert latency["n"] == 10 and (latency["p50"], latency["p95"]) == (250.0, 500.0)
    assert latency["bins"][0]["from"] == 0 and latency["bins"][0]["to"] == 50
    assert sum(b["count"] for b in latency["bins"]) == 10
    assert chart_data([]) == {
        "acceptance": [],
        "latency": {"bins": [], "n": 0, "p50": None, "p95": None},
    }


def test_prefix_text_moved_up_keeps_its_cells_but_suffix_text_never_joins_the_prefix():
    """The cursor moved past a window step: the prefix lost lines at its top (10..19) and
    gained one at its end; 900 is the marker that ends the prefix, the core starts at 10."""
    fence = 900
    cached = [*range(10), *range(10, 60), fence, *range(500, 540)]
    prompt = [*range(10), *range(20, 60), 61, fence, *range(500, 540)]
    plan = plan_reuse(cached, prompt, min_run=16, limit=10, fence=fence)
    assert plan.prefix == 10
    assert plan.runs == (Run(20, 10, 40),)  # the prefix's text, moved up; the suffix is read
    # Without the fence only runs at the core's start are kept (nothing here).
    assert plan_reuse(cached, prompt, min_run=16, limit=9).runs == ()
    # Lines that were suffix and are now prefix (the cursor moved down) are read again.
    cached = [*range(10), *range(20, 40), fence, *range(40, 80)]
    prompt = [*range(10), *range(20, 40), *range(40, 60), fence, *range(60, 80)]
    plan = plan_reuse(cached, prompt, min_run=16, limit=9, fence=fence)
    assert all(run.old + run.length <= 30 for run in plan.runs)
