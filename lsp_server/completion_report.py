"""`treellama.showLastPrompt`'s answer: exactly what the model saw for the last completion, what
it wrote, how the prompt was laid out, and where every millisecond went."""

from __future__ import annotations

from typing import Any

from inference.completion import Completion


def last_prompt_report(last: Completion) -> dict[str, Any]:
    generation = last.generation
    return {
        "id": last.id,
        "family": last.family,
        "prompt": last.prompt,
        "completion": last.text,
        "alternatives": list(last.alternatives),
        "rawOutput": generation.text if generation else None,
        "chunks": [{"path": c.path, "source": c.source} for c in last.chunks],
        "promptTokens": generation.prompt_tokens if generation else None,
        "reusedTokens": generation.reused_tokens if generation else None,
        "evaluatedTokens": generation.evaluated_tokens if generation else None,
        "generatedTokens": generation.generated_tokens if generation else None,
        "stopReason": generation.stop_reason if generation else None,
        "promptMs": round(generation.prompt_ms, 1) if generation else None,
        "generateMs": round(generation.generate_ms, 1) if generation else None,
        "layout": last.layout,
        "middle": last.middle,
        "timing": last.timing.as_dict() if last.timing else None,
        "timingSummary": last.timing.describe() if last.timing else None,
    }
