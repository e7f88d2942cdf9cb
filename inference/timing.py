"""Where a completion's milliseconds went, from the request to the suggestion.

Every part is measured, and `rest_ms` is what no part accounts for, so a slow keystroke shows
which part to fix: queueing behind background work, fitting the prompt to the window,
tokenizing, reading the prompt tokens that the KV cache did not hold, decoding, or the rest."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class KeystrokeTiming:
    total_ms: float  # from the request reaching the service to the cleaned suggestion
    context_ms: float  # the windows around the cursor and the context chunks
    waited_ms: float  # queued on the model worker: background work giving way, older requests
    fit_ms: float  # building the prompt and counting tokens to fit it in the context window
    tokenize_ms: float  # the whole prompt into tokens
    read_ms: float  # evaluating the prompt tokens that the KV cache did not hold
    read_tokens: int
    decode_ms: float  # generating the suggestion's tokens
    decoded_tokens: int

    @property
    def rest_ms(self) -> float:
        parts = (self.context_ms, self.waited_ms, self.fit_ms, self.tokenize_ms, self.read_ms,
                 self.decode_ms)  # fmt: skip
        return max(0.0, self.total_ms - sum(parts))

    def as_dict(self) -> dict[str, float | int]:
        fields = {name: round(value, 1) for name, value in asdict(self).items()}
        return {**fields, "rest_ms": round(self.rest_ms, 1)}

    def describe(self) -> str:
        """One line for the log and treellama.showLastPrompt."""
        return (
            f"{self.total_ms:.0f} ms: context {self.context_ms:.0f}, waited {self.waited_ms:.0f},"
            f" fit {self.fit_ms:.0f}, tokenize {self.tokenize_ms:.0f}, read {self.read_tokens}"
            f" tokens {self.read_ms:.0f}, decoded {self.decoded_tokens} tokens"
            f" {self.decode_ms:.0f}, rest {self.rest_ms:.0f}"
        )
