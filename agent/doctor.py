"""The sandbox part of `treellama doctor`: which layers work here, and which one is used."""

from __future__ import annotations

from agent.sandbox import probe
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
