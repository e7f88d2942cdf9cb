"""Screenshots rendered with Pillow, for the image tests and the OCR benchmark: a terminal showing
text (a traceback) and an error dialog, in a choice of fonts, sizes and themes, as PNG or JPEG."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = (Path("/usr/share/fonts/truetype"), Path("/usr/share/fonts/opentype"))
# Monospace terminal fonts from Debian's packages (fonts-dejavu-core, fonts-liberation,
# fonts-noto-mono); `make ocr` installs them with the OCR engine.
TERMINAL_FONTS = {
    "DejaVu Sans Mono": "dejavu/DejaVuSansMono.ttf",
    "Liberation Mono": "liberation/LiberationMono-Regular.ttf",
    "Noto Mono": "noto/NotoMono-Regular.ttf",
}
DIALOG_FONT = "dejavu/DejaVuSans.ttf"
THEMES = {
    "dark": ((30, 30, 30), (220, 220, 220)),
    "light": ((255, 255, 255), (30, 30, 30)),
    "solarized": ((0, 43, 54), (147, 161, 161)),
}

TRACEBACK = """\
$ python -m pytest -x tests/test_prices.py
Traceback (most recent call last):
  File "/home/dev/shop/cart.py", line 42, in checkout
    total = apply_discount(subtotal, code)
  File "/home/dev/shop/pricing.py", line 17, in apply_discount
    return subtotal / rates[code]
ZeroDivisionError: division by zero"""

# More of what developers screenshot: a pytest failure (operators, `>` and `E` margins), a
# Node.js stack trace and a Rust panic (file:line:column places).
PYTEST_FAILURE = """\
$ pytest -q tests/test_cart.py
F.                                                       [100%]
    def test_total_with_tax():
        cart = Cart([Item("pen", 2.5, 4)])
>       assert cart.total(tax=0.2) == 12.0
E       assert 10.0 == 12.0
E        +  where 10.0 = <bound method Cart.total of Cart(items=1)>(tax=0.2)
tests/test_cart.py:14: AssertionError
1 failed, 1 passed in 0.04s"""
NODE_TRACE = """\
$ node server.js
/home/dev/api/src/routes/users.js:27
    const name = user.profile.name;
                              ^
TypeError: Cannot read properties of undefined (reading 'name')
    at getUser (/home/dev/api/src/routes/users.js:27:31)
    at Layer.handle (/home/dev/api/node_modules/express/lib/router/layer.js:95:5)
    at next (/home/dev/api/src/middleware/auth.js:12:3)"""
RUST_PANIC = """\
$ cargo run --release
    Finished release [optimized] target(s) in 0.08s
     Running `target/release/ledger`
thread 'main' panicked at src/ledger.rs:88:14:
called `Option::unwrap()` on a `None` value
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"""
TERMINAL_TEXTS = {"python": TRACEBACK, "pytest": PYTEST_FAILURE, "node": NODE_TRACE,
                  "rust": RUST_PANIC}  # fmt: skip


def font_path(relative: str) -> Path | None:
    for base in FONT_DIRS:
        if (base / relative).is_file():
            return base / relative
    return None


def available_terminal_fonts() -> dict[str, Path]:
    found = {name: font_path(relative) for name, relative in TERMINAL_FONTS.items()}
    return {name: path for name, path in found.items() if path is not None}


@dataclass(frozen=True)
class Shot:
    text: str  # what the picture shows, line by line: the truth to read back
    image: bytes
    format: str  # PNG or JPEG


def _encode(image: Image.Image, jpeg_quality: int | None) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    if jpeg_quality is None:
        image.save(buffer, format="PNG")
        return buffer.getvalue(), "PNG"
    image.convert("RGB").save(buffer, format="JPEG", quality=jpeg_quality)
    return buffer.getvalue(), "JPEG"


def terminal(
    text: str = TRACEBACK,
    *,
    font: str = "DejaVu Sans Mono",
    size: int = 14,
    theme: str = "dark",
    jpeg_quality: int | None = None,
) -> Shot:
    """A terminal window: a title bar, then the text in a monospace font on the theme's colours."""
    path = available_terminal_fonts().get(font)
    if path is None:
        raise FileNotFoundError(f"the font {font!r} is not installed (make ocr installs it)")
    face = ImageFont.truetype(str(path), size)
    background, foreground = THEMES[theme]
    lines = text.splitlines()
    line_height = int(size * 1.4)
    width = int(max(face.getlength(line) for line in lines)) + 2 * size + 40
    title = 28
    image = Image.new("RGB", (width, title + line_height * len(lines) + 2 * size), background)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, title), fill=(60, 60, 60))
    for i, colour in enumerate(((237, 106, 94), (245, 191, 79), (98, 197, 84))):
        draw.ellipse((10 + 20 * i, 8, 22 + 20 * i, 20), fill=colour)
    for row, line in enumerate(lines):
        draw.text((size, title + size + row * line_height), line, font=face, fill=foreground)
    data, kind = _encode(image, jpeg_quality)
    return Shot(text, data, kind)


def error_dialog(
    title: str = "Unhandled exception",
    message: str = "ValueError: invalid literal for int() with base 10: 'abc'",
    detail: str = 'File "app/forms.py", line 88, in parse_quantity',
    *,
    size: int = 15,
) -> Shot:
    """A desktop error dialog: a title bar, an icon, the message and its detail, an OK button."""
    path = font_path(DIALOG_FONT)
    face = ImageFont.truetype(str(path), size) if path else ImageFont.load_default(size)
    bold = ImageFont.truetype(str(path), size + 2) if path else face
    width = int(max(face.getlength(message), face.getlength(detail))) + 140
    image = Image.new("RGB", (width, 190), (236, 236, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 34), fill=(52, 101, 164))
    draw.text((14, 8), title, font=bold, fill=(255, 255, 255))
    draw.ellipse((18, 58, 62, 102), fill=(204, 0, 0))
    draw.text((34, 64), "!", font=bold, fill=(255, 255, 255))
    draw.text((84, 60), message, font=face, fill=(20, 20, 20))
    draw.text((84, 92), detail, font=face, fill=(70, 70, 70))
    draw.rectangle(
        (width - 110, 140, width - 20, 172), fill=(250, 250, 250), outline=(120, 120, 120)
    )
    draw.text((width - 78, 147), "OK", font=face, fill=(20, 20, 20))
    data, kind = _encode(image, None)
    return Shot("\n".join((title, message, detail, "OK")), data, kind)
