"""What a method's class offers, or a function's module, for the prompt that rewrites it.

Shown one method alone, the 1.5B calls methods its class does not have (`self._move_to_end(key)`
in an LRU cache whose own helper is `self.__update(key)`): it cannot see them. So the prompt
names the class and its methods' signatures, as a sentence: given as code, the model copies
such stubs into its answer. A module-level function's prompt names its module's other
functions and its constants the same way: asked to implement `singularize` again, the reverse
of `pluralize`, the 1.5B copied `pluralize` with its `PLURALS`, never knowing that the module
also holds `SINGULARS`.
"""

from __future__ import annotations

import re

from agent.class_context import enclosing_class, own_methods
from agent.localize import Region
from indexing.languages import language_for
from indexing.parsing import parse
from indexing.symbols import definitions

MAX_METHODS = 30
MAX_NAMES = 40
CONSTANT = re.compile(r"^([A-Za-z_]\w*)\s*(?::[^=\n]*)?=[^=]", re.M)  # at column 0: a module's own


def class_outline(text: str, region: Region) -> str:
    """ "`__getitem__` is a method of `class LRUCache(Cache)`, whose methods are: ..." for a
    function region inside a class; "" otherwise."""
    language = language_for(None, region.path)
    if region.kind != "function" or language is None:
        return ""
    tree = parse(text.encode("utf-8"), language)
    symbols = definitions(tree, language) if tree is not None else []
    owner = enclosing_class(symbols, region.first)
    if owner is None:
        return ""
    lines = text.split("\n")
    methods = [_signature(lines[s.name_start[0]], s.name) for s in own_methods(symbols, owner)]
    if not methods:
        return ""
    header = lines[owner.name_start[0]].strip().rstrip(":").rstrip("{").strip()
    listed = ", ".join(f"`{m}`" for m in methods[:MAX_METHODS])
    return f"`{region.name}` is a method of `{header}`, whose methods are: {listed}."


def _signature(line: str, name: str) -> str:
    """`name(params)` from the definition's first line (cut where a long one wraps)."""
    start = line.find(name)
    signature = line[start:].strip() if start >= 0 else name
    for ending in (":", "{"):
        if signature.endswith(ending):
            signature = signature[: -len(ending)].rstrip()
    if "->" in signature:
        signature = signature[: signature.index("->")].rstrip()
    return signature if signature.count("(") == signature.count(")") else signature + " ...)"


def module_outline(text: str, region: Region) -> str:
    """ "`singularize` is a function of inflection.py, which also defines: ..." for a
    module-level function region of a Python file; "" otherwise."""
    language = language_for(None, region.path)
    if region.kind != "function" or language != "python":
        return ""
    tree = parse(text.encode("utf-8"), language)
    symbols = definitions(tree, language) if tree is not None else []
    if enclosing_class(symbols, region.first) is not None:
        return ""
    lines = text.split("\n")
    constants = [n for n in dict.fromkeys(CONSTANT.findall(text)) if not n.startswith("__")]
    functions = [
        _signature(lines[s.name_start[0]], s.name)
        for s in symbols
        if s.kind == "function" and s.start[1] == 0 and s.name != region.name
    ]
    names = [*constants, *functions][:MAX_NAMES]
    if not names:
        return ""
    listed = ", ".join(f"`{n}`" for n in names)
    return f"`{region.name}` is a function of {region.path}, which also defines: {listed}."
