"""The sandbox part of `treellama doctor`: which layers work here, and which one is used."""

from __future__ import annotations

from agent.env.sandbox import probe
from inference.doctor import Check


def check_sandbox(preferred: str = "auto") -> list[Check]:
    report = probe(preferred)
    checks = [
        Check(
            "agent sandbox",
            report.layer != "none",
            f"{report.layer} (works here: {', '.join(report.available) or 'none'})",
            "install bubblewrap (apt install bubblewrap), or use a kernel with Landlock; "
            "until then every agent command asks for approval",
        )
    ]
    checks += [Check("  sandbox layer", True, detail) for detail in report.details]
    return checks


STRATEGY_DETAIL = {
    "auto": "auto: the test-driven pipeline; then the tool loop, for models of 7B or more "
    "or over HTTP, when the pipeline's best candidate still fails",
    "pipeline": "pipeline: located by the program, candidates by the model, chosen by tests",
    "loop": "loop: the model drives a free tool loop (for large models)",
}


def check_strategy(strategy: str) -> list[Check]:
    return [Check("agent strategy", True, STRATEGY_DETAIL.get(strategy, strategy), "")]
