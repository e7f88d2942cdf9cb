"""The workspace as a graph of files, ranked from where the user is: Aider's repo-map idea.

A file links to the files that define the names it uses (names defined in many files, like
`get` or `run`, carry no signal and are left out; a link's weight grows with the square root of
the uses, so one file that calls a helper fifty times does not drown the rest). Personalised
PageRank from the current file and the recently edited ones then says which other files matter
here. It is computed by forward push (Andersen, Chung and Lang 2006), which only touches the
neighbourhood of the seeds, so a big repository costs no more per request than a small one.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping

from indexing.store import IndexStore

Graph = Mapping[str, Mapping[str, float]]

COMMON_NAME_FILES = 8


def build_file_graph(store: IndexStore) -> dict[str, dict[str, float]]:
    """Edges importer -> definer, weighted, with each file's out-weights summing to 1."""
    rows = store.db.execute(
        """
        WITH spread AS (
            SELECT name, count(DISTINCT file_id) AS files FROM definitions GROUP BY name
        ), used AS (
            SELECT file_id, name, sum(uses) AS uses FROM refs WHERE kind != 'import'
            GROUP BY file_id, name
        )
        SELECT src.path, dst.path, sum(used.uses)
        FROM used
        JOIN spread ON spread.name = used.name AND spread.files <= ?
        JOIN definitions d ON d.name = used.name AND d.file_id != used.file_id
        JOIN files src ON src.id = used.file_id
        JOIN files dst ON dst.id = d.file_id
        GROUP BY src.path, dst.path
        """,
        (COMMON_NAME_FILES,),
    )
    graph: dict[str, dict[str, float]] = defaultdict(dict)
    for source, target, uses in rows:
        graph[source][target] = math.sqrt(uses)
    for edges in graph.values():
        total = sum(edges.values())
        for target in edges:
            edges[target] /= total
    return dict(graph)


def personalized_pagerank(
    graph: Graph,
    seeds: Mapping[str, float],
    alpha: float = 0.15,
    epsilon: float = 1e-3,
    max_pushes: int = 3_000,
) -> dict[str, float]:
    """Approximate PageRank personalised to `seeds` (weights, normalised here), by push."""
    total = sum(seeds.values())
    if total <= 0:
        return {}
    residual: dict[str, float] = {node: weight / total for node, weight in seeds.items()}
    rank: dict[str, float] = defaultdict(float)
    queue = list(residual)
    pushes = 0
    while queue and pushes < max_pushes:
        node = queue.pop()
        mass = residual.get(node, 0.0)
        edges = graph.get(node, {})
        degree = max(1, len(edges))
        if mass < epsilon * degree:
            continue
        pushes += 1
        rank[node] += alpha * mass
        residual[node] = 0.0
        spread = (1 - alpha) * mass
        if not edges:  # a dead end returns its mass to the seeds, as teleporting would
            for seed, weight in seeds.items():
                residual[seed] = residual.get(seed, 0.0) + spread * weight / total
                queue.append(seed)
            continue
        for target, weight in edges.items():
            before = residual.get(target, 0.0)
            residual[target] = before + spread * weight
            if before < epsilon * max(1, len(graph.get(target, {}))) <= residual[target]:
                queue.append(target)
    return dict(rank)
