"""The persistent index: one SQLite database per workspace (WAL, versioned schema, FTS5).

Files are keyed by their path relative to the workspace root, with size, mtime and a content
hash, so a restart re-reads only what changed. Chunks live in an FTS5 table for BM25 search;
identifiers are whole tokens (`_` is a token character), since code is searched by name.

A database whose `user_version` is not SCHEMA_VERSION, or that fails SQLite's quick check, is
deleted and rebuilt with a log line: an index that might be wrong is worse than none. Each
thread gets its own connection (WAL lets readers run while the indexer writes); writes are
serialised by one lock.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from indexing.facts import FileFacts

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    language TEXT,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash TEXT NOT NULL,
    parsed INTEGER NOT NULL
);
CREATE TABLE definitions (
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    container TEXT NOT NULL,
    start_row INTEGER NOT NULL,
    end_row INTEGER NOT NULL,
    name_row INTEGER NOT NULL,
    name_col INTEGER NOT NULL,
    signature TEXT NOT NULL
);
CREATE INDEX definitions_name ON definitions(name);
CREATE INDEX definitions_file ON definitions(file_id);
-- References are kept as counts per file and name: they feed the file graph. Positions are
-- found on demand (textDocument/references reads the files FTS points at).
CREATE TABLE refs (
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    uses INTEGER NOT NULL
);
CREATE INDEX refs_file ON refs(file_id);
CREATE TABLE imports (
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    local_name TEXT NOT NULL,
    module TEXT NOT NULL,
    imported_name TEXT NOT NULL
);
CREATE INDEX imports_file ON imports(file_id);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    start_row INTEGER NOT NULL,
    end_row INTEGER NOT NULL
);
CREATE INDEX chunks_file ON chunks(file_id);
CREATE VIRTUAL TABLE chunks_fts USING fts5(text, tokenize = "unicode61 tokenchars '_'");
"""


class IndexCorrupt(Exception):
    """The database could not be read; the caller rebuilds it."""


@dataclass(frozen=True)
class FileRecord:
    id: int
    path: str
    language: str | None
    size: int
    mtime_ns: int
    hash: str


@dataclass(frozen=True)
class DefinitionRow:
    path: str
    name: str
    kind: str
    container: str
    start_row: int
    end_row: int
    name_row: int
    name_col: int
    signature: str


@dataclass(frozen=True)
class ChunkRow:
    path: str
    start_row: int
    end_row: int
    text: str
    score: float  # BM25: lower is better, as SQLite reports it


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class IndexStore:
    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._open_checked()

    # -- connections -------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.db_path, check_same_thread=False, timeout=30)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
        self._connections.append(connection)
        return connection

    @property
    def db(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._connect()
        return connection

    def _open_checked(self) -> None:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        reason = None
        if self.db_path.exists():
            try:
                connection = sqlite3.connect(self.db_path)
                try:
                    version = connection.execute("PRAGMA user_version").fetchone()[0]
                    check = connection.execute("PRAGMA quick_check").fetchone()[0]
                finally:
                    connection.close()
                if check != "ok":
                    reason = f"integrity check failed: {check}"
                elif version != SCHEMA_VERSION:
                    reason = f"schema version {version}, expected {SCHEMA_VERSION}"
            except sqlite3.DatabaseError as exc:
                reason = f"unreadable: {exc}"
        if reason is not None:
            log.warning("index database %s %s; rebuilding it", self.db_path, reason)
            self._delete_files()
        fresh = not self.db_path.exists()
        if fresh:
            with self._write_lock:
                self.db.executescript(SCHEMA)
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                self.db.commit()
        self.rebuilt_because = reason

    def _delete_files(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        for connection in self._connections:
            with suppress(sqlite3.Error):
                connection.close()
        self._connections.clear()
        self._local = threading.local()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        try:
            yield self.db
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(str(exc)) from exc

    # -- writing -----------------------------------------------------------------------

    def put_file(self, path: str, size: int, mtime_ns: int, digest: str, facts: FileFacts) -> None:
        """Replaces everything known about `path` in one transaction."""
        self.put_files([(path, size, mtime_ns, digest, facts)])

    def put_files(self, files: list[tuple[str, int, int, str, FileFacts]]) -> None:
        """Replaces several files in one transaction: a commit per file would cost more than
        parsing it."""
        with self._write_lock, self._reading() as db, db:
            for path, size, mtime_ns, digest, facts in files:
                self._insert(db, path, size, mtime_ns, digest, facts)

    def _insert(
        self, db: sqlite3.Connection, path: str, size: int, mtime_ns: int, digest: str,
        facts: FileFacts,
    ) -> None:  # fmt: skip
        self._remove(db, path)
        cursor = db.execute(
            "INSERT INTO files(path, language, size, mtime_ns, hash, parsed)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (path, facts.language, size, mtime_ns, digest, int(facts.parsed)),
        )
        file_id = cursor.lastrowid
        db.executemany(
            "INSERT INTO definitions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (file_id, d.name, d.kind, d.container, d.start_row, d.end_row,
                 d.name_row, d.name_col, d.signature)
                for d in facts.definitions
            ],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO refs VALUES (?, ?, ?, ?)",
            [(file_id, name, kind, count) for (name, kind), count in facts.references.items()],
        )
        db.executemany(
            "INSERT INTO imports VALUES (?, ?, ?, ?)",
            [(file_id, i.local_name, i.module, i.imported_name) for i in facts.imports],
        )
        for chunk in facts.chunks:
            chunk_id = db.execute(
                "INSERT INTO chunks(file_id, start_row, end_row) VALUES (?, ?, ?)",
                (file_id, chunk.start_row, chunk.end_row),
            ).lastrowid
            db.execute("INSERT INTO chunks_fts(rowid, text) VALUES (?, ?)", (chunk_id, chunk.text))

    def touch_file(self, path: str, size: int, mtime_ns: int) -> None:
        """The content is unchanged (same hash); only remember the new stat."""
        with self._write_lock, self._reading() as db, db:
            db.execute(
                "UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?", (size, mtime_ns, path)
            )

    def remove_files(self, paths: Iterable[str]) -> None:
        with self._write_lock, self._reading() as db, db:
            for path in paths:
                self._remove(db, path)

    @staticmethod
    def _remove(db: sqlite3.Connection, path: str) -> None:
        row = db.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()
        if row is None:
            return
        db.execute(
            "DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE file_id = ?)",
            (row[0],),
        )
        db.execute("DELETE FROM files WHERE id = ?", (row[0],))

    # -- reading -----------------------------------------------------------------------

    def files(self) -> dict[str, FileRecord]:
        with self._reading() as db:
            rows = db.execute("SELECT id, path, language, size, mtime_ns, hash FROM files")
            return {row[1]: FileRecord(*row) for row in rows}

    def record(self, path: str) -> FileRecord | None:
        with self._reading() as db:
            row = db.execute(
                "SELECT id, path, language, size, mtime_ns, hash FROM files WHERE path = ?", (path,)
            ).fetchone()
            return FileRecord(*row) if row else None

    def file_count(self) -> int:
        with self._reading() as db:
            return int(db.execute("SELECT count(*) FROM files").fetchone()[0])

    _DEFINITION_COLUMNS = (
        "f.path, d.name, d.kind, d.container, d.start_row, d.end_row, d.name_row, d.name_col,"
        " d.signature"
    )

    def definitions_named(self, name: str, limit: int = 200) -> list[DefinitionRow]:
        with self._reading() as db:
            rows = db.execute(
                f"SELECT {self._DEFINITION_COLUMNS} FROM definitions d"
                " JOIN files f ON f.id = d.file_id WHERE d.name = ? LIMIT ?",
                (name, limit),
            )
            return [DefinitionRow(*row) for row in rows]

    def definitions_in(self, path: str) -> list[DefinitionRow]:
        with self._reading() as db:
            rows = db.execute(
                f"SELECT {self._DEFINITION_COLUMNS} FROM definitions d"
                " JOIN files f ON f.id = d.file_id WHERE f.path = ? ORDER BY d.start_row",
                (path,),
            )
            return [DefinitionRow(*row) for row in rows]

    def definition_names(self) -> list[str]:
        with self._reading() as db:
            return [row[0] for row in db.execute("SELECT DISTINCT name FROM definitions")]

    def imports_of(self, path: str) -> list[tuple[str, str, str]]:
        with self._reading() as db:
            rows = db.execute(
                "SELECT i.local_name, i.module, i.imported_name FROM imports i"
                " JOIN files f ON f.id = i.file_id WHERE f.path = ?",
                (path,),
            )
            return [(row[0], row[1], row[2]) for row in rows]

    def reference_paths(self, name: str, limit: int = 500) -> list[str]:
        """Files that mention `name` as a word anywhere (FTS), for name-based references."""
        with self._reading() as db:
            rows = db.execute(
                "SELECT DISTINCT f.path FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid"
                " JOIN files f ON f.id = c.file_id WHERE chunks_fts MATCH ? LIMIT ?",
                (fts_phrase(name), limit),
            )
            return [row[0] for row in rows]

    def search_chunks(
        self, words: Iterable[str], limit: int = 20, exclude_path: str | None = None
    ) -> list[ChunkRow]:
        """BM25-ranked chunks that contain any of `words`."""
        terms = [fts_phrase(word) for word in dict.fromkeys(words) if word]
        if not terms:
            return []
        with self._reading() as db:
            rows = db.execute(
                "SELECT f.path, c.start_row, c.end_row, chunks_fts.text, bm25(chunks_fts)"
                " FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid"
                " JOIN files f ON f.id = c.file_id"
                " WHERE chunks_fts MATCH ? AND f.path IS NOT ? ORDER BY bm25(chunks_fts) LIMIT ?",
                (" OR ".join(terms), exclude_path, limit),
            )
            return [ChunkRow(*row) for row in rows]

    def linked_files(self, path: str, common_limit: int = 8) -> dict[str, int]:
        """Files that define names `path` references, with how many references lead there.
        Names defined in more than `common_limit` files (`get`, `run`) say nothing and are
        skipped."""
        with self._reading() as db:
            rows = db.execute(
                """
                WITH used AS (
                    SELECT r.name, sum(r.uses) AS uses FROM refs r JOIN files f ON f.id = r.file_id
                    WHERE f.path = ? AND r.kind != 'import' GROUP BY r.name
                ), spread AS (
                    SELECT d.name, count(DISTINCT d.file_id) AS files FROM definitions d
                    WHERE d.name IN (SELECT name FROM used) GROUP BY d.name
                )
                SELECT f.path, sum(used.uses) FROM used
                JOIN spread ON spread.name = used.name AND spread.files <= ?
                JOIN definitions d ON d.name = used.name
                JOIN files f ON f.id = d.file_id
                WHERE f.path != ?
                GROUP BY f.path
                """,
                (path, common_limit, path),
            )
            return {row[0]: int(row[1]) for row in rows}


def fts_phrase(word: str) -> str:
    """A word as an FTS5 string literal, so that no character is read as query syntax."""
    return '"' + word.replace('"', '""') + '"'
