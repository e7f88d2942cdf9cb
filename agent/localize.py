"""Where a task's change goes, found by the program, not by the model.

Every definition in the project's source files (not its tests) is scored from evidence:
- the frames of the failing tests' tracebacks that fall inside it (the deepest weighs most);
- the names the failing tests call, and names missing from an import ("cannot import name");
- the names, file names and quoted calls in the instruction;
- BM25 of the instruction's words against the definition's words.
The best place becomes a Region: the whole file when the file is small (a small model then
sees and can add whatever it needs), else the definition. Only when the top places are close
and no traceback points at one does the caller ask the model to pick from a numbered list.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from agent.spectrum import CodeUnit, Spectrum
from agent.test_files import is_test_path
from agent.test_report import Frame, TestReport
from agent.worktree import files_under
from indexing.languages import language_for
from indexing.parsing import parse
from indexing.symbols import Symbol, definitions, flatten

SMALL_FILE_LINES = 40  # a file up to this size is rewritten whole (see _region)
TAIL_LINES = 30  # what is shown of a large file that gains a new definition
MAX_FILES = 3000
MAX_FILE_BYTES = 400_000
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MISSING_NAME = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")
NO_ATTRIBUTE = re.compile(r"has no attribute '(\w+)'")
QUALIFIED = re.compile(r"\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)\b")  # Owner.member
FILE_NAME = re.compile(r"[\w./-]+\.(?:py|js|ts|tsx|rs|go)\b")


@dataclass(frozen=True)
class Region:
    path: str
    first: int  # 0-based, inclusive
    last: int
    name: str
    kind: str  # "file" or "function"
    score: float
    reasons: tuple[str, ...] = ()

    def describe(self) -> str:
        where = {"file": "the whole file", "tail": "the end of", "add": f"a new `{self.name}`"}.get(
            self.kind, f"`{self.name}`"
        )
        return f"{where} in {self.path} (lines {self.first + 1}-{self.last + 1})"


@dataclass
class _Place:
    path: str
    symbol: Symbol | None  # None: the module level of the file
    lines: int
    words: Counter[str]
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    missing: str = ""  # a name the tests import from this module and it lacks
    source: list[str] = field(default_factory=list, repr=False)  # the file's lines, shared

    def add(self, points: float, reason: str) -> None:
        self.score += points
        if reason not in self.reasons:
            self.reasons.append(reason)


def stem(word: str) -> str:
    """A light stem, so that "parsed", "parses" and "parse" meet."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)].rstrip("e") if suffix == "ing" else word[: -len(suffix)]
    return word.rstrip("e") if len(word) > 4 else word


def words_of(text: str) -> list[str]:
    """Identifier parts, lowercased and stemmed: `parse_date` and `parseDate` both give
    pars, dat; "parsed dates" gives the same."""
    found = []
    for word in WORD.findall(text):
        for part in re.split(r"_|(?<=[a-z0-9])(?=[A-Z])", word):
            if len(part) > 1:
                found.append(stem(part.lower()).rstrip("e"))
    return found


def _places(root: Path) -> list[_Place]:
    places = []
    for relative, path in sorted(files_under(root).items())[:MAX_FILES]:
        language = language_for(None, relative)
        if language is None or is_test_path(relative):
            continue
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        lines = text.split("\n")
        tree = parse(text.encode("utf-8"), language)
        symbols = definitions(tree, language) if tree is not None else []
        places.append(_Place(relative, None, len(lines), Counter(words_of(text)), source=lines))
        for symbol in flatten(symbols):
            body = "\n".join(lines[symbol.start[0] : symbol.end[0] + 1])
            words = Counter(words_of(body))
            places.append(_Place(relative, symbol, len(lines), words, source=lines))
    return places


def _bm25(places: list[_Place], query: list[str]) -> list[float]:
    n = len(places) or 1
    average = sum(sum(p.words.values()) for p in places) / n or 1
    frequency = Counter(word for p in places for word in set(p.words))
    scores = []
    for place in places:
        length = sum(place.words.values())
        score = 0.0
        for word in set(query):
            tf = place.words.get(word, 0)
            if not tf:
                continue
            idf = math.log(1 + (n - frequency[word] + 0.5) / (frequency[word] + 0.5))
            score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / average))
        scores.append(score)
    return scores


def _innermost(places: list[_Place], path: str, line: int) -> _Place | None:
    best = None
    for place in places:
        if place.path != path or place.symbol is None:
            continue
        if place.symbol.start[0] <= line <= place.symbol.end[0] and (
            best is None or place.symbol.start[0] >= best.symbol.start[0]  # type: ignore[union-attr]
        ):
            best = place
    return best


def _module(places: list[_Place], path: str) -> _Place | None:
    return next((p for p in places if p.path == path and p.symbol is None), None)


def _units_by_place(places: list[_Place], spectrum: Spectrum) -> dict[int, list[CodeUnit]]:
    """Each function's code units: its own (found by name, at its line or just above it,
    where its decorators start) and those of the lambdas and comprehensions inside it."""
    found: dict[int, list[CodeUnit]] = {}
    for unit in spectrum.units:
        if is_test_path(unit.path):
            continue
        line = unit.line - 1
        owner = None
        if unit.name.isidentifier():
            owner = next(
                (p for p in places if p.path == unit.path and p.symbol is not None
                 and p.symbol.name == unit.name
                 and p.symbol.start[0] - 1 <= line <= p.symbol.start[0] + 8),
                None,
            )  # fmt: skip
        owner = owner or _innermost(places, unit.path, line)
        if owner is not None:
            found.setdefault(id(owner), []).append(unit)
    return found


@dataclass(frozen=True)
class Clues:
    """What the scorers read: the task, the failing tests and what they ran or showed."""

    instruction: str
    report: TestReport | None
    tests: str  # the failing tests' source
    spectrum: Spectrum | None
    seen: tuple[Frame, ...]  # frames read from the task's images
    names: dict[str, list[_Place]]  # every definition, by name
    suspicion: dict[int, float]  # Ochiai, by place id


def _suspicion(places: list[_Place], spectrum: Spectrum | None) -> dict[int, float]:
    if spectrum is None:
        return {}
    units = _units_by_place(places, spectrum)
    return {key: spectrum.ochiai(found) for key, found in units.items()}


def score_spectrum(places: list[_Place], clues: Clues) -> None:
    top = max(clues.suspicion.values(), default=0.0) or 1.0
    for place in places:
        score = clues.suspicion.get(id(place), 0.0)
        if score > 0 and place.symbol is not None:
            # Relative to the most suspicious function: what only the failing tests run.
            place.add(12 * score / top, f"run by the failing tests (Ochiai {score:.2f})")


def score_traceback(places: list[_Place], clues: Clues) -> None:
    """The frames of each failing test's traceback in project code, the deepest most."""
    top = max(clues.suspicion.values(), default=0.0) or 1.0
    for failure in clues.report.failures if clues.report else ():
        frames = [f for f in failure.frames if not is_test_path(f.path)]
        # A function that raises on purpose (`raise KeyError(key)`) only reports what its
        # caller got wrong: the frame above it counts as the deepest.
        while len(frames) > 1 and _deliberate_raise(places, frames[-1]):
            frames = frames[:-1]
        reached = _reached(places, frames)
        crash = reached[-1] if reached else None
        # An override that hands on to the method it overrides (`Cache.__getitem__(self,
        # key)`) is the specific code; the base method serves every subclass.
        if len(reached) > 1 and _same_name(reached[-1], reached[-2]):
            crash = reached[-2]
        for place in reached:
            points = 10.0 + 5 * (place is crash)
            if clues.suspicion:  # a frame in code that passing tests run as much weighs less
                points *= 0.5 + 0.5 * clues.suspicion.get(id(place), 0.0) / top
            place.add(points, f"in the traceback of {failure.name}")


def score_missing_names(places: list[_Place], clues: Clues) -> None:
    """Names a failing test's message says are missing: from a module, or from a class."""
    for failure in clues.report.failures if clues.report else ():
        for name, module in MISSING_NAME.findall(failure.text + failure.message):
            path = module.replace(".", "/") + ".py"
            target = _module(places, path)
            if target is not None and name not in clues.names:
                target.add(14, f"{name} is missing from {path}")
                target.missing = name
        for name in NO_ATTRIBUTE.findall(failure.text + failure.message):
            if name not in clues.names:  # a method to add: the class's file
                for place in places:
                    symbol = place.symbol
                    kind = symbol.kind if symbol else ""
                    if symbol and kind in ("class", "struct") and symbol.name in failure.text:
                        place.add(8, f"{name} is missing from {symbol.name}")


def score_tests_calls(places: list[_Place], clues: Clues) -> None:
    # The names the tests' bodies use; their imports name every function a test file covers.
    called = set(WORD.findall(_without_imports(clues.tests)))
    for name in called & clues.names.keys():
        for place in clues.names[name]:
            place.add(6, "called by the failing tests")
            for member in _members(places, place):
                member.add(3, f"a part of {name}, which the failing tests use")


def score_task_names(places: list[_Place], clues: Clues) -> None:
    """Names, `Owner.member`s and file names in the task."""
    instruction, names = clues.instruction, clues.names
    for name in set(WORD.findall(instruction)) & names.keys():
        for place in names[name]:
            place.add(5, "named in the task")
    for owner, name in set(QUALIFIED.findall(instruction)):
        for place in names.get(owner, ()):
            for member in _members(places, place):
                if member.symbol is not None and member.symbol.name == name:
                    member.add(4, f"named in the task as {owner}.{name}")
    for mentioned in FILE_NAME.findall(instruction):
        for place in places:
            if place.path == mentioned or place.path.endswith("/" + mentioned.lstrip("./")):
                place.add(3, "its file is named in the task")


def score_bm25(places: list[_Place], clues: Clues) -> None:
    scores = _bm25(places, words_of(clues.instruction))
    top = max(scores, default=0) or 1
    for place, score in zip(places, scores, strict=True):
        # A large module's own words are all its functions' words: only its parts compete.
        if place.symbol is None and place.lines > SMALL_FILE_LINES:
            continue
        if score > 0:
            place.add(4 * score / top, "matches the task's words")


def score_image_frames(places: list[_Place], clues: Clues) -> None:
    _score_seen(places, clues.seen)


# The scorers, by name; an effort's config (agent.pipeline.config) lists the ones it runs.
SCORERS: dict[str, Callable[[list[_Place], Clues], None]] = {
    "spectrum": score_spectrum,
    "image_frames": score_image_frames,
    "traceback": score_traceback,
    "missing_names": score_missing_names,
    "tests_calls": score_tests_calls,
    "task_names": score_task_names,
    "bm25": score_bm25,
}


def _score_seen(places: list[_Place], frames: tuple[Frame, ...]) -> None:
    """Places the user showed (a screenshot's traceback or file:line): like a failing test's
    frames, and the deepest in the project's own code, where it crashed, weighs most (no
    passing test is there to show that the frames above it are fine)."""
    frames = tuple(f for f in frames if not is_test_path(f.path))
    for depth, frame in enumerate(frames):
        place = _innermost(places, _normal(frame.path), frame.line - 1)
        by_name = [p for p in places if p.path == _normal(frame.path) and p.symbol is not None
                   and p.symbol.name == frame.function]  # fmt: skip
        if by_name and (place is None or place.symbol is None
                        or place.symbol.name != frame.function):  # fmt: skip
            place = by_name[0]  # a misread line number: the function's name decides
        if place is not None:
            place.add(10.0 + 8 * (depth == len(frames) - 1), "in the traceback read from the image")


def _reached(places: list[_Place], frames: list[Frame]) -> list[_Place]:
    """The places a traceback runs through, each once, by its last frame there (a chained
    exception repeats the function that caught it)."""
    reached: dict[int, _Place] = {}
    for frame in frames:
        place = _innermost(places, _normal(frame.path), frame.line - 1)
        if place is not None:
            reached.pop(id(place), None)
            reached[id(place)] = place
    return list(reached.values())


def _same_name(one: _Place, other: _Place) -> bool:
    if one.symbol is None or other.symbol is None:
        return False
    return one.symbol.name == other.symbol.name


PARENTHESIZED_IMPORT = re.compile(r"^[ \t]*from[ \t]+\S+[ \t]+import[ \t]*\([^)]*\)", re.M)


def _deliberate_raise(places: list[_Place], frame: Frame) -> bool:
    module = _module(places, _normal(frame.path))
    if module is None or not 0 < frame.line <= len(module.source):
        return False
    line = module.source[frame.line - 1].strip()
    return line.startswith("raise ") and "NotImplemented" not in line


def _members(places: list[_Place], owner: _Place) -> list[_Place]:
    """The methods of a class (none for a function)."""
    symbol = owner.symbol
    if symbol is None or symbol.kind not in ("class", "struct", "interface", "impl"):
        return []
    return [
        p for p in places
        if p.path == owner.path and p.symbol is not None and p is not owner
        and symbol.start[0] < p.symbol.start[0] and p.symbol.end[0] <= symbol.end[0]
    ]  # fmt: skip


def _without_imports(code: str) -> str:
    code = PARENTHESIZED_IMPORT.sub("", code)
    return "\n".join(
        line for line in code.split("\n") if not line.lstrip().startswith(("import ", "from "))
    )


def _normal(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).as_posix().lstrip("./")


def localize(
    root: Path,
    instruction: str,
    report: TestReport | None = None,
    tests_source: str = "",
    spectrum: Spectrum | None = None,
    seen: tuple[Frame, ...] = (),
    scorers: tuple[str, ...] = tuple(SCORERS),
) -> list[Region]:
    """The candidate regions, best first (at most 5, one per file for small files).
    `seen`: frames the user showed (read from a screenshot), with the project's paths."""
    places = _places(root)
    # A name may be defined many times (`pop` in every cache class): each definition gets
    # the name's evidence, and the other evidence tells them apart.
    names: dict[str, list[_Place]] = {}
    for place in places:
        if place.symbol is not None:
            names.setdefault(place.symbol.name, []).append(place)
    clues = Clues(instruction, report, tests_source, spectrum, seen, names,
                  _suspicion(places, spectrum))  # fmt: skip
    for name in SCORERS:  # in their own order: the reasons read best first
        if name in scorers:
            SCORERS[name](places, clues)
    ranked = sorted((p for p in places if p.score > 0), key=lambda p: -p.score)
    regions: list[Region] = []
    listed: set[tuple[str, int, int]] = set()
    for place in ranked:
        region = _region(place)
        key = (region.path, region.first, region.last)
        if key not in listed:
            listed.add(key)
            regions.append(region)
        if len(regions) == 5:
            break
    return regions


def _region(place: _Place) -> Region:
    reasons = tuple(place.reasons[:4])
    if place.missing:  # only the new definition is asked for, and appended
        last = place.lines - 1
        return Region(place.path, last, last, place.missing, "add", place.score, reasons)
    if place.lines <= SMALL_FILE_LINES:
        return Region(place.path, 0, place.lines - 1, place.path, "file", place.score, reasons)
    if place.symbol is None:  # something to add to a large module: its last lines
        first = max(0, place.lines - 1 - TAIL_LINES)
        return Region(place.path, first, place.lines - 1, place.path, "tail", place.score, reasons)
    symbol = place.symbol
    return Region(
        place.path, symbol.start[0], symbol.end[0], symbol.name, "function", place.score, reasons
    )


def traced(regions: list[Region]) -> bool:
    """Whether a traceback or a missing name points at the best region."""
    if not regions:
        return False
    return any(r.startswith("in the traceback") or " is missing" in r for r in regions[0].reasons)


def ambiguous(regions: list[Region]) -> bool:
    """Whether the model should pick: two or more places, close in score, none traced."""
    if len(regions) < 2 or traced(regions):
        return False
    return regions[1].score >= 0.8 * regions[0].score and regions[0].path != regions[1].path
