"""OCR benchmark: character accuracy and seconds per image over rendered screenshots.

    python -m bench.ocr [--sizes 12,14,16,18,22] [--quick]

The screenshots are rendered here with Pillow (tests/support/screenshots.py): a Python
traceback, a pytest failure, a Node.js stack trace and a Rust panic, in three monospace fonts,
several sizes, dark, light and solarized themes, as PNG and as JPEG at quality 70; and error
dialogs. treellama's reading (inference.ocr: inverted, scaled by line height, one engine
thread, unsure lines dropped) is measured against plain Tesseract on the same image in the
same run (`tesseract image stdout`, its defaults). Character accuracy is 1 - (edit distance /
length of the truth), over the text's lines with their runs of spaces made one (a terminal's
indentation and alignment are not read back; the lines, their words and their order are).
Target: 98 % or more on the terminal screenshots at 14 px and above.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import time

from PIL import Image

from bench.common import save, summary
from inference import ocr
from tests.support import screenshots

THEMES = ("dark", "light", "solarized")
FORMATS = (None, 70)  # PNG, JPEG at quality 70


def distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def lines(text: str) -> str:
    """The lines, each with its runs of spaces made one (a terminal's alignment is not read)."""
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def accuracy(truth: str, read: str) -> float:
    truth, read = lines(truth), lines(read)
    return max(0.0, 1 - distance(truth, read) / max(1, len(truth)))


def plain_tesseract(data: bytes) -> str:
    """The baseline: Tesseract's command line with its defaults, on the image as it is."""
    done = subprocess.run(["tesseract", "stdin", "stdout"], input=data, capture_output=True,
                          timeout=60)  # fmt: skip
    return done.stdout.decode("utf-8", errors="replace")


def measure(shot: screenshots.Shot) -> dict:
    image = Image.open(io.BytesIO(shot.image))
    image.load()
    started = time.perf_counter()
    ours = "\n".join(ocr.read_text(image))
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    plain = plain_tesseract(shot.image)
    plain_s = time.perf_counter() - started
    return {"accuracy": round(accuracy(shot.text, ours), 4), "seconds": round(ours_s, 3),
            "plain_accuracy": round(accuracy(shot.text, plain), 4),
            "plain_seconds": round(plain_s, 3)}  # fmt: skip


def rows_for(sizes: list[int], quick: bool) -> list[dict]:
    fonts = list(screenshots.available_terminal_fonts())
    texts = screenshots.TERMINAL_TEXTS
    rows = []
    for name, text in texts.items():
        for font in fonts[:1] if quick else fonts:
            for size in sizes:
                for theme in THEMES[:2] if quick else THEMES:
                    for quality in FORMATS:
                        shot = screenshots.terminal(text, font=font, size=size, theme=theme,
                                                    jpeg_quality=quality)  # fmt: skip
                        row = {"kind": "terminal", "text": name, "font": font, "size": size,
                               "theme": theme, "format": shot.format, **measure(shot)}  # fmt: skip
                        rows.append(row)
                        print(f"{name:7} {font:17} {size:2}px {theme:9} {shot.format:4} "
                              f"{row['accuracy']:.3f} ({row['plain_accuracy']:.3f} plain) "
                              f"{row['seconds']:.2f} s", flush=True)  # fmt: skip
    for size in (13, 15, 18):
        shot = screenshots.error_dialog(size=size)
        rows.append({"kind": "dialog", "text": "dialog", "font": "DejaVu Sans", "size": size,
                     "theme": "light", "format": shot.format, **measure(shot)})  # fmt: skip
    return rows


def report(rows: list[dict]) -> dict:
    def group(selected: list[dict]) -> dict:
        ours = [r["accuracy"] for r in selected]
        plain = [r["plain_accuracy"] for r in selected]
        seconds = [r["seconds"] for r in selected]
        plain_seconds = [r["plain_seconds"] for r in selected]
        return {
            "images": len(selected),
            "accuracy_mean": round(statistics.fmean(ours), 4),
            "accuracy_min": min(ours),
            "at_least_98": sum(a >= 0.98 for a in ours),
            "plain_accuracy_mean": round(statistics.fmean(plain), 4),
            "plain_accuracy_min": min(plain),
            "seconds": summary(seconds),
            "plain_seconds": summary(plain_seconds),
            "error_ratio_vs_plain": round((1 - statistics.fmean(ours))
                                          / max(1e-9, 1 - statistics.fmean(plain)), 3),
            "time_ratio_vs_plain": round(statistics.fmean(seconds)
                                         / statistics.fmean(plain_seconds), 3),
        }  # fmt: skip

    terminal = [r for r in rows if r["kind"] == "terminal"]
    result = {"terminal_14px_and_above": group([r for r in terminal if r["size"] >= 14]),
              "terminal_below_14px": group([r for r in terminal if r["size"] < 14] or terminal),
              "dialogs": group([r for r in rows if r["kind"] == "dialog"])}  # fmt: skip
    for key in ("theme", "format", "font", "text", "size"):
        for value in sorted({r[key] for r in terminal}, key=str):
            # By size, every size; by anything else, at 14 px and above (the target's range).
            selected = [
                r for r in terminal if r[key] == value and (key == "size" or r["size"] >= 14)
            ]
            if selected:
                result[f"terminal_{key}_{value}"] = group(selected)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="12,14,16,18,22")
    parser.add_argument("--quick", action="store_true", help="one font, two themes")
    args = parser.parse_args()
    info = ocr.engine_info()
    rows = rows_for([int(s) for s in args.sizes.split(",")], args.quick)
    save("ocr", {"engine": info.describe(), "rows": rows})  # kept even if the report fails
    result = {"engine": info.describe(), "summary": report(rows), "rows": rows}
    path = save("ocr", result)
    main_group = result["summary"]["terminal_14px_and_above"]
    print(f"\n{info.describe()}: terminal screenshots at 14 px and above: "
          f"{main_group['accuracy_mean']:.2%} mean, {main_group['accuracy_min']:.2%} worst, "
          f"{main_group['at_least_98']}/{main_group['images']} at 98 % or more; plain "
          f"Tesseract {main_group['plain_accuracy_mean']:.2%}; "
          f"{main_group['seconds']['p50']:.2f} s per image (p50), "
          f"{main_group['time_ratio_vs_plain']:.2f}x plain's time\nwritten to {path}")  # fmt: skip


if __name__ == "__main__":
    main()
