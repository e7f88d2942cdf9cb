"""Images in tasks: screenshots rendered here with Pillow, read by the real OCR engine
(Tesseract), refused with a reason when they cannot be taken, and their tracebacks used by
localization. The task tests use a scripted model: its words don't matter here."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from agent.approvals import AllowAll, ApprovalRequest, Decision
from agent.env.test_report import Frame
from agent.images import (
    MAX_IMAGE_BYTES,
    ImageInput,
    ImageRefused,
    parse_images,
    places_in,
    read,
    resolve_places,
)
from agent.localize import localize
from agent.model import ScriptedAgentModel
from agent.settings import AgentSettings
from agent.tasks import TaskManager
from inference import ocr
from tests.support import screenshots
from tests.support.projects import TEST_COMMAND, make_shop, shop_traceback
from tests.support.requirements import requirement


@pytest.fixture(scope="module")
def tesseract() -> ocr.EngineInfo:
    try:
        info = ocr.engine_info()
    except ocr.OcrUnavailable:
        requirement(None, "tesseract-ocr (make ocr)")
        raise
    return info


def png(width: int, height: int, colour: tuple[int, int, int] = (255, 255, 255)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture: the shape of a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def test_a_terminal_traceback_is_read_with_its_exception_and_places(
    tesseract: ocr.EngineInfo,
) -> None:
    shot = screenshots.terminal(screenshots.TRACEBACK, size=14, theme="dark")
    reading = read(ImageInput("traceback.png", data=shot.image))
    text = "\n".join(reading.lines)
    assert "ZeroDivisionError: division by zero" in text
    assert 'File "/home/dev/shop/pricing.py", line 17, in apply_discount' in text
    assert reading.lines[0].startswith("$ python -m pytest")  # reading order kept
    assert Frame("/home/dev/shop/pricing.py", 17, "apply_discount") in reading.frames
    assert reading.prompt_text().startswith("Text read from the image traceback.png")
    assert (reading.width, reading.format, reading.note) == (Image.open(
        io.BytesIO(shot.image)).width, "PNG", "")  # fmt: skip


def test_an_error_dialog_is_read(tesseract: ocr.EngineInfo) -> None:
    shot = screenshots.error_dialog()
    reading = read(ImageInput("dialog.png", data=shot.image))
    text = "\n".join(reading.lines)
    assert "ValueError: invalid literal for int() with base 10: 'abc'" in text
    assert 'File "app/forms.py", line 88, in parse_quantity' in text
    assert Frame("app/forms.py", 88, "parse_quantity") in reading.frames


def test_a_jpeg_light_terminal_with_compiler_places(tesseract: ocr.EngineInfo) -> None:
    text = "src/app.ts:12:5 - error TS2322: Type 'string' is not assignable to type 'number'."
    shot = screenshots.terminal(text, theme="light", size=16, jpeg_quality=70)
    reading = read(ImageInput("tsc.jpg", data=shot.image))
    assert reading.format == "JPEG" and Frame("src/app.ts", 12, "") in reading.frames


def test_an_image_with_no_text_says_so(tesseract: ocr.EngineInfo) -> None:
    reading = read(ImageInput("blank.png", data=png(400, 200)))
    assert reading.lines == () and reading.note == "no text found"
    assert "no text found" in reading.prompt_text()


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"def add(a, b):\n    return a + b\n", "is not an image"),
        (png(300, 200)[:120], "is corrupt"),
        (bomb_png(60_000, 60_000), "decompression bomb"),
        (b"", "is empty"),
        (b"x" * (MAX_IMAGE_BYTES + 1), "MiB cap"),
    ],
    ids=["source-code", "truncated-png", "bomb", "empty", "oversize"],
)
def test_bad_images_are_refused_with_a_reason(data: bytes, why: str) -> None:
    with pytest.raises(ImageRefused, match=why):
        read(ImageInput("bad.png", data=data))


def test_the_images_parameter_is_checked_for_shape(tmp_path: Path) -> None:
    data = base64.b64encode(png(8, 8)).decode()
    parsed = parse_images(
        [{"path": "shots/a.png"}, {"uri": (tmp_path / "b.png").as_uri()},
         {"dataUri": f"data:image/png;base64,{data}", "name": "pasted.png"}],
        tmp_path,
    )  # fmt: skip
    assert [p.name for p in parsed] == ["a.png", "b.png", "pasted.png"]
    assert parsed[0].path == tmp_path / "shots" / "a.png" and parsed[2].data == png(8, 8)
    for bad, why in [
        ("a.png", "a list of"),
        ([{"uri": "https://example.com/a.png"}], "only file: URIs"),
        ([{"dataUri": "data:text/plain;base64,aGk="}], "must look like"),
        ([{"dataUri": "data:image/png;base64,***"}], "not valid base64"),
        ([{}], "a list of"),
        ([{"path": "a.png"}] * 9, "at most 8"),
    ]:
        with pytest.raises(ImageRefused, match=why):
            parse_images(bad, tmp_path)
    with pytest.raises(ImageRefused, match="cannot be read"):
        read(parse_images([{"path": "missing.png"}], tmp_path)[0])


def test_places_from_another_machine_map_onto_the_project() -> None:
    files = ["shop/pricing.py", "legacy/pricing.py", "shop/cart.py", "tests/test_shop.py"]
    frames = (
        Frame("<string>", 1, "<module>"),
        Frame("/home/dev/shop-app/shop/cart.py", 19, "checkout"),
        Frame("/home/dev/shop-app/shop/pricing.py", 17, "apply_discount"),
        Frame("/usr/lib/python3.11/json/decoder.py", 3, "decode"),
    )
    assert resolve_places(frames, files) == (
        Frame("shop/cart.py", 19, "checkout"),
        Frame("shop/pricing.py", 17, "apply_discount"),
    )
    assert [f.line for f in places_in(["a.py:3 and b.rs:10:2", 'File "c.py", line 4, in f'])] \
        == [3, 10, 4]  # fmt: skip


def test_a_screenshot_traceback_localizes_the_crashing_function(
    tmp_path: Path, tesseract: ocr.EngineInfo
) -> None:
    root = make_shop(tmp_path / "shop-app")
    shot = screenshots.terminal(shop_traceback(), size=14, theme="dark")
    reading = read(ImageInput("crash.png", data=shot.image))
    seen = resolve_places(reading.frames, ["shop/pricing.py", "shop/cart.py"])
    task = f"checkout crashes with the STAFF code\n\n{reading.prompt_text()}"  # as tasks do
    regions = localize(root, task, seen=seen)
    assert (regions[0].path, regions[0].name) == ("shop/pricing.py", "apply_discount")
    assert "in the traceback read from the image" in regions[0].reasons


class RecordingApprover:
    def __init__(self, decision: Decision) -> None:
        self.decision, self.asked = decision, []

    def ask(self, request: ApprovalRequest) -> Decision:
        self.asked.append(request)
        return self.decision


def test_a_task_reads_the_users_images_anywhere_and_asks_only_for_others_outside(
    tmp_path: Path, tesseract: ocr.EngineInfo
) -> None:
    """A path the user chose (`--image ~/Desktop/shot.png`, the editor's file dialog, the
    page) is read wherever it is, under every policy; one that someone else proposed is asked
    about when it is outside the workspace, and refused under `never`."""
    root = make_shop(tmp_path / "shop-app")
    inside = root / "crash.png"
    inside.write_bytes(screenshots.terminal(shop_traceback()).image)
    elsewhere = tmp_path / "Desktop" / "dialog.png"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(screenshots.error_dialog().image)
    events: list[tuple[str, dict]] = []

    def manager(approver, policy: str = "on-request") -> TaskManager:
        return TaskManager(
            root, lambda cancel: ScriptedAgentModel([]),
            AgentSettings(test_command=TEST_COMMAND, strategy="loop", approval_policy=policy),
            approver, on_event=lambda state, e: events.append((e.kind, e.data)),
        )  # fmt: skip

    chosen = parse_images([{"path": "crash.png"}, {"path": str(elsewhere)},
                           {"dataUri": "data:image/png;base64,aGVsbG8="}], root)  # fmt: skip
    for policy in ("on-request", "never"):
        events.clear()
        approver = RecordingApprover(Decision.DENY)
        tasks = manager(approver, policy)
        state = tasks.wait(tasks.start("fix the crash", "low", images=chosen).id, 60)
        shown = [data for kind, data in events if kind == "image"]
        assert [d["name"] for d in shown] == ["crash.png", "dialog.png", "image 3"]
        assert (
            "ZeroDivisionError" in shown[0]["text"] and shown[0]["bytes"] == inside.stat().st_size
        )
        assert "refused" not in shown[1] and "ValueError" in shown[1]["text"], shown[1]
        assert "not an image" in shown[2]["refused"]
        assert approver.asked == []  # the user's own choice is the approval
        assert len(state.public()["images"]) == 3  # then the task went on, to its model
        tasks.close()
    proposed = parse_images([{"path": str(elsewhere)}], root, by_user=False)
    for approver, read_outside in [(RecordingApprover(Decision.DENY), False),
                                   (RecordingApprover(Decision.ALLOW), True)]:  # fmt: skip
        events.clear()
        tasks = manager(approver)
        tasks.wait(tasks.start("fix the crash", "low", images=proposed).id, 60)
        (shown,) = [data for kind, data in events if kind == "image"]
        assert ("refused" in shown) is not read_outside
        assert [r.command for r in approver.asked] == [f"read {elsewhere}"]
        tasks.close()
    deny_all = manager(AllowAll(), "never")
    state = deny_all.wait(deny_all.start("fix the crash", "low", images=proposed).id, 60)
    assert "not approved" in state.images[0]["refused"]
    deny_all.close()


def test_paths_the_engine_breaks_are_joined_back_and_prose_is_left_alone() -> None:
    assert ocr.repair_paths("at getUser (/srv/api/routes/users. jS:27:31)") == (
        "at getUser (/srv/api/routes/users.js:27:31)"
    )
    assert ocr.repair_paths('File "/srv/app/middleware/ auth. py", line 3') == (
        'File "/srv/app/middleware/auth.py", line 3'
    )
    assert ocr.repair_paths("It is fine. Js developers agree, and/ or not") == (
        "It is fine. Js developers agree, and/ or not"
    )
