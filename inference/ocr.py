"""Reading the text in an image locally: Tesseract 5 (Debian's `tesseract-ocr`, with its English
data from `tesseract-ocr-eng`), run as a child process.

A child process can be killed at its time cap, and a crash in the engine cannot take the
server with it. It is called directly rather than through pytesseract, which hands the
engine the server's whole environment: Tesseract's OpenMP threads then fight the model's
for the two cores, and one thread per read (OMP_THREAD_LIMIT=1) halves its time. Setting that
in the server's own environment would cap llama.cpp's OpenMP threads too.

Screens are prepared the way Tesseract reads best: grey, dark text on a light ground (a dark
terminal is inverted), small text scaled up towards the glyph height its model was trained on.
Lines whose words Tesseract is unsure of (window buttons, icons read as "eoe") are dropped.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageOps, ImageStat

ENGINE = "tesseract"
LANGUAGE = "eng"
# Page segmentation 6 ("one uniform block of text") keeps a terminal's lines whole and in
# order; 3 (automatic) finds a dialog's separate parts. A screenshot that is mostly one
# background colour (a terminal, an editor) is read as a block.
BLOCK, AUTO = 6, 3
# Tesseract reads best with lines of text about this tall (measured on rendered terminals: 14 px
# text misreads "==" as "=" at 2x, not at 3x); smaller text is scaled up by a whole factor.
TARGET_LINE_PIXELS = 42
MAX_SCALE = 4
MAX_SCALED_PIXELS = 40_000_000
# A line is dropped when Tesseract's mean word confidence (0-100) is below the floor, or when it
# is a few characters it is unsure of: window buttons and icons read as "eoe" or "Cx".
# (Long lines are kept even when unsure: a path is one long "word" outside Tesseract's
# dictionary, and is read with a confidence near 40 although it is right.)
MIN_LINE_CONFIDENCE = 20.0
MIN_SHORT_LINE_CONFIDENCE = 75.0
SHORT_LINE_CHARACTERS = 4
# Tesseract breaks paths at their dots and slashes ("users. jS:27", "middleware/ auth.js"):
# a file extension after a dot (where a line number, a quote or a parenthesis follows, as in a
# traceback), and a name after a slash inside a path, are joined back.
EXTENSIONS = ("py", "pyi", "js", "jsx", "mjs", "cjs", "ts", "tsx", "rs", "go", "java", "kt", "c",
              "h", "cc", "cpp", "hpp", "cs", "rb", "php", "lua", "swift", "scala", "sh", "json",
              "toml", "yaml", "yml", "html", "css", "vue", "svelte", "sql", "md", "txt",
              )  # fmt: skip
SPLIT_EXTENSION = re.compile(
    r"(?<=\w)\. ?(" + "|".join(EXTENSIONS) + r")(?=:\d|[\"')])", re.IGNORECASE
)
SPLIT_PATH = re.compile(r"(?<=[\w.-]/) (?=[\w.-]+(?:/|\.\w+))")


def repair_paths(line: str) -> str:
    line = SPLIT_EXTENSION.sub(lambda m: "." + m.group(1).lower(), line)
    return SPLIT_PATH.sub("", line)


# Tesseract's dictionary turns a program's straight quotes into typographic ones.
ASCII_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


class OcrUnavailable(Exception):
    """No OCR engine is installed; the message says how to get one."""


@dataclass(frozen=True)
class EngineInfo:
    name: str
    version: str
    languages: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.name} {self.version} ({', '.join(self.languages) or 'no languages'})"


def _command() -> str:
    found = shutil.which(ENGINE)
    if found is None:
        raise OcrUnavailable(
            "no OCR engine: install Debian's tesseract-ocr and tesseract-ocr-eng (make ocr)"
        )
    return found


def _run(args: list[str], timeout: float, data: bytes | None = None) -> str:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run(
        [_command(), *args], input=data, capture_output=True, timeout=timeout, env=env
    )
    if done.returncode != 0:
        raise RuntimeError(f"tesseract failed: {done.stderr.decode(errors='replace')[-300:]}")
    return done.stdout.decode("utf-8", errors="replace")


@lru_cache(maxsize=1)
def engine_info() -> EngineInfo:
    """The engine, its version and its installed languages; OcrUnavailable when missing."""
    first = _run(["--version"], 10).splitlines()[0]
    match = re.search(r"(\d+\.\d+(?:\.\d+)?)", first)
    listing = _run(["--list-langs"], 10).splitlines()[1:]
    languages = tuple(lang.strip() for lang in listing if lang.strip() and lang.strip() != "osd")
    return EngineInfo(ENGINE, match.group(1) if match else first, languages)


def line_height(grey: Image.Image) -> int:
    """The median height of the runs of rows that hold ink (dark on light): lines of text."""
    ink = grey.point(lambda v: 255 if v < 128 else 0)
    rows = list(ink.resize((1, ink.height), Image.Resampling.BOX).tobytes())  # mode L: a byte each
    runs, run = [], 0
    for value in [*rows, 0]:
        if value > 0:  # a row with any ink
            run += 1
        elif run:
            runs.append(run)
            run = 0
    runs = sorted(r for r in runs if r >= 4)
    return runs[len(runs) // 2] if runs else TARGET_LINE_PIXELS


def prepare(image: Image.Image) -> Image.Image:
    grey = ImageOps.grayscale(image)
    if ImageStat.Stat(grey).mean[0] < 128:  # light text on a dark ground
        grey = ImageOps.invert(grey)
    scale = max(1, min(MAX_SCALE, round(TARGET_LINE_PIXELS / line_height(grey))))
    while scale > 1 and grey.width * grey.height * scale * scale > MAX_SCALED_PIXELS:
        scale -= 1
    if scale > 1:
        grey = grey.resize((grey.width * scale, grey.height * scale), Image.Resampling.LANCZOS)
    return grey


def _uniform(grey: Image.Image) -> bool:
    histogram = grey.histogram()
    return max(histogram) > 0.6 * sum(histogram)


def _kept(words: list[tuple[float, str]]) -> bool:
    confidence = sum(conf for conf, _ in words) / len(words)
    characters = sum(ch.isalnum() for _, word in words for ch in word)
    if characters <= SHORT_LINE_CHARACTERS:
        return confidence >= MIN_SHORT_LINE_CONFIDENCE
    return confidence >= MIN_LINE_CONFIDENCE


def lines_of_tsv(tsv: str) -> list[str]:
    """Tesseract's TSV report as lines of text, in its reading order, unsure lines dropped."""
    lines: dict[tuple[str, str, str], list[tuple[float, str]]] = {}
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or not cells[11].strip():
            continue
        key = (cells[2], cells[3], cells[4])  # block, paragraph, line
        lines.setdefault(key, []).append((float(cells[10]), cells[11]))
    return [" ".join(word for _, word in words) for words in lines.values() if _kept(words)]


def read_text(image: Image.Image, timeout: float = 20.0) -> list[str]:
    """The image's lines of text, in reading order; [] when it has none.

    OcrUnavailable when no engine is installed; subprocess.TimeoutExpired when the read
    passes `timeout` seconds (the engine is killed)."""
    info = engine_info()
    if LANGUAGE not in info.languages:
        raise OcrUnavailable(f"tesseract has no {LANGUAGE} data: install tesseract-ocr-eng")
    grey = prepare(image)
    mode = BLOCK if _uniform(grey) else AUTO
    buffer = io.BytesIO()
    grey.save(buffer, format="PNG")
    tsv = _run(["stdin", "stdout", "--psm", str(mode), "-l", LANGUAGE, "tsv"], timeout,
               buffer.getvalue())  # fmt: skip
    return [repair_paths(line.translate(ASCII_QUOTES)) for line in lines_of_tsv(tsv)]
