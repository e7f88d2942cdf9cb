"""Fuzzy matching of symbol names for workspace/symbol, ranked the way editors' pickers rank.

A query matches a name when its characters appear in order (case-insensitively). Matches score
higher when they are exact, a prefix, start at word boundaries (`gsn` → get_symbol_name,
`GSN` → getSymbolName) or are contiguous, and lower the longer the name is.
"""

from __future__ import annotations


def _boundaries(name: str) -> set[int]:
    found = {0}
    for i in range(1, len(name)):
        previous, current = name[i - 1], name[i]
        if (
            (previous in "_-.$" and current not in "_-.$")
            or (previous.islower() and current.isupper())
            or (previous.isalpha() and current.isdigit())
        ):
            found.add(i)
    return found


def score(query: str, name: str) -> float | None:
    """How well `name` matches `query`, higher is better; None when it does not match."""
    if not query:
        return 0.0
    q, n = query.lower(), name.lower()
    if q == n:
        return 1000.0 + (10 if query == name else 0)
    if n.startswith(q):
        return 800.0 - len(name) + (5 if name.startswith(query) else 0)
    boundaries = _boundaries(name)
    position = 0
    total = 0.0
    previous = -2
    for char in q:
        found = n.find(char, position)
        if found < 0:
            return None
        # Prefer a boundary occurrence of this character if there is one ahead.
        for candidate in sorted(b for b in boundaries if b >= position):
            if n[candidate] == char and candidate != found and previous + 1 != found:
                found = candidate
                break
        if found in boundaries:
            total += 10
        if found == previous + 1:
            total += 6
        previous = found
        position = found + 1
    if q in n:
        total += 40
    return total - 0.5 * len(name)


def rank(query: str, names: list[str], limit: int) -> list[str]:
    scored = [(s, name) for name in names if (s := score(query, name)) is not None]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [name for _, name in scored[:limit]]
