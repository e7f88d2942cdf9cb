"""Images handed to a task (a screenshot of a traceback, an error dialog): taken in with caps,
decoded off the event loop under a time cap, and read locally (inference.ocr).

What was read goes into the task as "text read from the image", line by line in reading
order; the file:line places and traceback frames found in it feed localization the way a
test failure's frames do. A vision model, where one is configured, gets the image itself too.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import re
import subprocess
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from PIL import Image, UnidentifiedImageError

from agent.env.test_report import Frame, frames_in
from inference import ocr
from inference.vision import image_messages

log = logging.getLogger(__name__)

MAX_IMAGES = 8  # per task
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000  # about two 8K screens side by side; beyond is refused as a bomb
MAX_SIDE = 20_000
DECODE_SECONDS = 10.0
READ_SECONDS = 30.0
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")
MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "BMP": "image/bmp",
        "WEBP": "image/webp", "TIFF": "image/tiff"}  # fmt: skip
USAGE = "images: a list of {path}, {uri} (file:) or {dataUri} (data:image/...;base64,...)"
# `path.ext:line` as compilers, linters, node and cargo print it (`src/app.ts:12:5`).
FILE_LINE = re.compile(r"((?:[A-Za-z]:)?[\w./\\-]*\w\.[A-Za-z]{1,5}):(\d+)")


class ImageRefused(ValueError):
    """An image that cannot be taken; the message says why, for the user."""


@dataclass(frozen=True)
class ImageInput:
    """One image as a front end hands it in: a file, or the bytes themselves.

    `by_user`: the user chose it (typed it on the command line, picked it in the editor's
    file dialog, dropped it on the page). That choice is the approval to read it, wherever
    it is: screenshots land in ~/Pictures, ~/Desktop or /tmp, not in the project. A path that
    someone else put there (one a model or a task proposes) is not."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    by_user: bool = True


def _data_uri(uri: str) -> bytes:
    head, comma, body = uri.partition(",")
    if not comma or not head.startswith("data:image/") or not head.endswith(";base64"):
        raise ImageRefused("a dataUri must look like data:image/png;base64,...")
    if len(body) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        raise ImageRefused(f"the image is over the {MAX_IMAGE_BYTES >> 20} MiB cap")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageRefused(f"the dataUri is not valid base64: {exc}") from None


def parse_images(value: Any, workspace: Path, by_user: bool = True) -> list[ImageInput]:
    """The `images` parameter of a request, checked for shape (not yet read); `by_user`
    says whether the user chose them (every front end's own images are)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImageRefused(USAGE)
    if len(value) > MAX_IMAGES:
        raise ImageRefused(f"at most {MAX_IMAGES} images per task")
    images = []
    for i, item in enumerate(value, 1):
        if not isinstance(item, dict):
            raise ImageRefused(USAGE)
        name = item.get("name") if isinstance(item.get("name"), str) else None
        if isinstance(item.get("dataUri"), str):
            data = _data_uri(item["dataUri"])
            images.append(ImageInput(name or f"image {i}", data=data, by_user=by_user))
            continue
        if isinstance(item.get("uri"), str):
            parsed = urllib.parse.urlparse(item["uri"])
            if parsed.scheme != "file":
                raise ImageRefused(f"only file: URIs are read, not {parsed.scheme or 'none'}:")
            path = Path(urllib.request.url2pathname(parsed.path))
        elif isinstance(item.get("path"), str) and item["path"].strip():
            path = Path(item["path"]).expanduser()
            path = path if path.is_absolute() else workspace / path
        else:
            raise ImageRefused(USAGE)
        images.append(ImageInput(name or path.name, path=path, by_user=by_user))
    return images


def needs_approval(image: ImageInput, workspace: Path) -> bool:
    """Whether reading the image needs the user's yes: a file outside the workspace that the
    user did not choose. (Under the `never` policy, such a file is refused.)"""
    if image.path is None or image.by_user:
        return False
    return not image.path.resolve().is_relative_to(workspace.resolve())


def load_bytes(image: ImageInput) -> bytes:
    if image.data is not None:
        data = image.data
    else:
        assert image.path is not None
        try:
            with image.path.open("rb") as handle:
                data = handle.read(MAX_IMAGE_BYTES + 1)
        except OSError as exc:
            raise ImageRefused(f"{image.name} cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRefused(f"{image.name} is over the {MAX_IMAGE_BYTES >> 20} MiB cap")
    if not data:
        raise ImageRefused(f"{image.name} is empty")
    return data


def _open(data: bytes, name: str) -> Image.Image:
    """The header only: format and size, checked before any pixel is decoded."""
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageRefused(f"{name} is not an image (or not one of {', '.join(FORMATS)})") from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageRefused(f"{name} is not a readable image: {exc}") from None
    if image.format not in FORMATS:
        raise ImageRefused(f"{name} is {image.format}; treellama takes {', '.join(FORMATS)}")
    width, height = image.size
    if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
        raise ImageRefused(
            f"{name} is {width}x{height} pixels, over the cap of {MAX_PIXELS // 1_000_000} "
            "megapixels: refused (it could be a decompression bomb)"
        )
    return image


def decode(data: bytes, name: str, timeout: float = DECODE_SECONDS) -> tuple[Image.Image, str]:
    """The decoded image and its format; ImageRefused for corrupt data, a bomb, or a decode
    past `timeout`.

    Decoding runs on a thread of its own so that a slow one is abandoned at the cap (Pillow
    cannot be interrupted; the thread ends when the decoder does)."""
    image = _open(data, name)
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            image.load()
            result["image"] = image.convert("RGB")
        except Exception as exc:  # truncated or corrupt data, of any kind
            result["error"] = exc

    thread = threading.Thread(target=work, name="image-decode", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise ImageRefused(f"{name} took more than {timeout:g} s to decode: refused")
    if "error" in result:
        raise ImageRefused(f"{name} is corrupt: {result['error']}")
    return result["image"], image.format or "PNG"


@dataclass(frozen=True)
class ImageReading:
    """One accepted image: what it is, and what was read from it."""

    name: str
    size: int  # bytes
    width: int
    height: int
    format: str
    lines: tuple[str, ...]
    note: str = ""  # "no text found", or why nothing could be read
    frames: tuple[Frame, ...] = ()  # the places in the text: file, line, function
    data: bytes = field(default=b"", repr=False)  # the file itself, for a vision model
    seen: str = ""  # what a vision model said the image shows, where one is configured

    @property
    def mime(self) -> str:
        return MIME.get(self.format, "image/png")

    def data_uri(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode()}"

    def summary(self) -> str:
        what = f"{len(self.lines)} lines of text read" if self.lines else self.note
        return f"{self.name} ({self.width}x{self.height} {self.format}, {self.size} bytes): {what}"

    def prompt_text(self) -> str:
        seen = f"\nWhat the image {self.name} shows: {self.seen}" if self.seen else ""
        if not self.lines:
            return f"The image {self.name}: {self.note}.{seen}"
        text = "\n".join(self.lines)
        return f"Text read from the image {self.name}, line by line:\n{text}{seen}"

    def question(self, instruction: str) -> str:
        """What a vision model is asked about the image, with its text read beside it."""
        read = "\n".join(self.lines) or "(none)"
        return (
            f"A developer's task: {instruction}\nThey attached this image ({self.name}). "
            f"Its text, as OCR read it:\n{read}\n\nSay briefly what the image shows that "
            "matters for the task: the error, the file and line, the values, what looks "
            "wrong on screen. Correct the OCR text where the image shows it misread."
        )

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name, "bytes": self.size, "width": self.width, "height": self.height,
            "format": self.format, "text": "\n".join(self.lines), "note": self.note,
            "places": [{"path": f.path, "line": f.line, "function": f.function}
                       for f in self.frames], "seen": self.seen,
        }  # fmt: skip


def places_in(lines: list[str] | tuple[str, ...]) -> tuple[Frame, ...]:
    """Traceback frames and file:line places in the text, in order, each once."""
    text = "\n".join(lines)
    found = list(frames_in(text))
    known = {(f.path, f.line) for f in found}
    for path, line in FILE_LINE.findall(text):
        if (path, int(line)) not in known and not path.startswith(("http", "www.")):
            known.add((path, int(line)))
            found.append(Frame(path, int(line), ""))
    order = {id(f): text.find(f'{f.path}"') if f'{f.path}"' in text else text.find(f.path)
             for f in found}  # fmt: skip
    return tuple(sorted(found, key=lambda f: order[id(f)]))


def prompt_text(readings: list[ImageReading]) -> str:
    """What a model is shown of the images, beside the code or the task."""
    return "\n\n".join(r.prompt_text() for r in readings)


def shown_to(model: Any, reading: ImageReading, instruction: str) -> ImageReading:
    """The reading with what a model that sees images said of it (`seen`), beside its text;
    as it was for a model that reads text only. A vision model that fails is noted on the
    reading, and whatever asked goes on with the text."""
    if not getattr(model, "sees_images", False):
        return reading
    try:
        seen = model.describe(image_messages(reading.question(instruction), [reading.data_uri()]))
    except Exception as exc:
        log.warning("the vision model could not look at %s: %s", reading.name, exc)
        return replace(reading, note=f"the vision model failed: {exc}")
    return replace(reading, seen=seen)


def read(image: ImageInput, timeout: float = READ_SECONDS) -> ImageReading:
    """Decodes and reads one image; ImageRefused for one that cannot be taken. An image the
    OCR engine cannot read (none installed, too slow) is still accepted, with a note."""
    data = load_bytes(image)
    decoded, kind = decode(data, image.name)
    note = ""
    try:
        lines = ocr.read_text(decoded, timeout)
    except ocr.OcrUnavailable as exc:
        lines, note = [], f"no text could be read: {exc}"
    except subprocess.TimeoutExpired:
        lines, note = [], f"no text could be read: the OCR engine took over {timeout:g} s"
    except (RuntimeError, OSError) as exc:
        lines, note = [], f"no text could be read: {exc}"
    if not lines and not note:
        note = "no text found"
    return ImageReading(
        image.name, len(data), decoded.width, decoded.height, kind, tuple(lines), note,
        places_in(lines), data,
    )  # fmt: skip


def resolve_places(frames: tuple[Frame, ...], files: list[str]) -> tuple[Frame, ...]:
    """The frames whose file is in the project, with the project's own path: a screenshot
    from another machine says /home/dev/shop/pricing.py for the workspace's shop/pricing.py.
    The longest matching tail of path components wins; frames outside the project drop."""
    by_name: dict[str, list[str]] = {}
    for path in files:
        by_name.setdefault(PurePosixPath(path).name, []).append(path)
    resolved = []
    for frame in frames:
        parts = PurePosixPath(frame.path.replace("\\", "/")).parts
        if not parts:
            continue

        def matched(path: str, parts: tuple[str, ...] = parts) -> int:
            own = PurePosixPath(path).parts
            n = 0
            while n < min(len(own), len(parts)) and own[-1 - n] == parts[-1 - n]:
                n += 1
            return n

        candidates = by_name.get(parts[-1], [])
        if candidates:
            best = max(candidates, key=lambda p: (matched(p), -len(p)))
            resolved.append(Frame(best, frame.line, frame.function))
    return tuple(resolved)
