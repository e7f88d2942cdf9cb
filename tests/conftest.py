"""Session-wide test settings: servers started by any test inherit this environment, and the
services tests run in this process get the same folders through the typed configuration."""

from __future__ import annotations

import os
import tempfile

from inference import paths
from inference.settings import PathSettings

# Statistics from test servers go to a scratch file, never into the user's own.
os.environ.setdefault(
    "TREELLAMA_STATS_FILE",
    os.path.join(tempfile.mkdtemp(prefix="treellama-test-stats-"), "stats.jsonl"),
)
# Code index databases of test workspaces go to a scratch directory too.
os.environ.setdefault("TREELLAMA_INDEX_DIR", tempfile.mkdtemp(prefix="treellama-test-index-"))
# Agent task copies and logs as well.
os.environ.setdefault("TREELLAMA_AGENT_DIR", tempfile.mkdtemp(prefix="treellama-test-agent-"))
paths.configure(
    PathSettings(
        cache_dir=os.environ.get("TREELLAMA_CACHE_DIR", ""),
        index_dir=os.environ["TREELLAMA_INDEX_DIR"],
        stats_file=os.environ["TREELLAMA_STATS_FILE"],
        agent_dir=os.environ["TREELLAMA_AGENT_DIR"],
    )
)
