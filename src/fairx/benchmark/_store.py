"""The results store: one SQLite file, written only by the coordinator.

Each finished cell is written in ONE transaction (its metadata row, its tidy metric rows, its
group table, its row samples), so a killed run (SIGINT or SIGKILL) leaves every cell either
complete or absent. WAL journaling keeps readers (``fairx report``) working during a run.
Samples of rows are JSON text, never pickles.

Results are only ever added: a cell's key carries the hash of its full configuration, so a
changed option is a new cell beside the old one; only ``replace=True`` (``--force``) replaces a
finished cell. One writer at a time: :meth:`ResultStore.acquire` records the writing process and a
second run on the same file stops with "in use by pid …". A file that is not a fairx database
is refused before anything is written to it.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
from collections.abc import Iterable
from datetime import datetime, timezone
from io import StringIO
from pathlib import Path
from typing import Any

import pandas as pd

SCHEMA_VERSION = "1"

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS cells (
    key TEXT PRIMARY KEY, dataset TEXT, sensitive TEXT, method TEXT, registry_name TEXT,
    stage TEXT, preset TEXT, params TEXT, seed INTEGER, status TEXT, error TEXT, traceback TEXT,
    duration REAL, host TEXT, config_hash TEXT, spec_hash TEXT, versions TEXT,
    started TEXT, finished TEXT, position INTEGER
);
CREATE TABLE IF NOT EXISTS results (
    cell_key TEXT, metric TEXT, value REAL, PRIMARY KEY (cell_key, metric)
);
CREATE TABLE IF NOT EXISTS groups (
    cell_key TEXT, attribute TEXT, grp TEXT, size INTEGER, selection_rate REAL, tpr REAL,
    fpr REAL, small INTEGER
);
CREATE TABLE IF NOT EXISTS samples (cell_key TEXT, kind TEXT, schema TEXT, rows TEXT);
CREATE TABLE IF NOT EXISTS importances (
    cell_key TEXT, feature TEXT, source TEXT, value REAL
);
CREATE TABLE IF NOT EXISTS writer (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER,
    host TEXT, started TEXT);
CREATE INDEX IF NOT EXISTS groups_key ON groups (cell_key);
CREATE INDEX IF NOT EXISTS samples_key ON samples (cell_key);
CREATE INDEX IF NOT EXISTS importances_key ON importances (cell_key);
"""

_CELL_COLUMNS = ("key", "dataset", "sensitive", "method", "registry_name", "stage", "preset",
                 "params", "seed", "status", "error", "traceback", "duration", "host",
                 "config_hash", "spec_hash", "versions", "started", "finished", "position")


# the newest finished cell of each (dataset, sensitive, method, seed): what readers show by
# default, so a table never mixes two configurations of one row (older ones stay stored)
_LATEST = """c.key IN (SELECT key FROM (SELECT key, ROW_NUMBER() OVER (
    PARTITION BY dataset, sensitive, method, seed ORDER BY finished DESC, rowid DESC) AS rn
    FROM cells WHERE status = 'ok') WHERE rn = 1)"""


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


class StoreError(ValueError):
    """A results database that cannot be used (not fairx's, not SQLite, read-only, in use)."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's live process
        return True
    return True


def _inspect(path: Path) -> None:
    """Refuse, without writing anything, a file that is not (or cannot become) a fairx database."""
    where = repr(str(path))
    if path.is_dir():
        raise StoreError(f"results database {where} is a directory; give a file, e.g. results.db")
    parent = path.parent if str(path.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise StoreError(f"results database {where}: {str(parent)!r} is a file, not a folder")
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:  # pragma: no cover - unreadable file
        raise StoreError(f"cannot open results database {where}: {exc}") from None
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return
        row = (conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
               if "meta" in tables else None)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{where} is not a fairx results database (not SQLite: {exc}); "
                         "choose another --db") from None
    finally:
        conn.close()
    if row is None:
        shown = ", ".join(sorted(tables)[:6]) + (", …" if len(tables) > 6 else "")
        raise StoreError(f"{where} is not a fairx results database (it holds tables {shown}); "
                         "left untouched; choose another --db")
    if str(row[0]) != SCHEMA_VERSION:
        raise StoreError(f"{where} has results schema version {row[0]}, this fairx writes "
                         f"{SCHEMA_VERSION}; use a new --db")


class ResultStore:
    """SQLite results of a benchmark. Use as a context manager or call :meth:`close`."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self._owner = False
        if readonly:
            if not self.path.exists():
                raise FileNotFoundError(f"results database {str(self.path)!r} not found")
            if self.path.is_dir():
                raise StoreError(f"results database {str(self.path)!r} is a directory")
            self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        else:
            _inspect(self.path)  # before creating tables or switching the file to WAL
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.conn = sqlite3.connect(self.path, timeout=30)
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")
                with self.conn:
                    self.conn.executescript(_DDL)
                    self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                                      (SCHEMA_VERSION,))
            except (sqlite3.OperationalError, OSError) as exc:
                raise StoreError(f"cannot write results database {str(self.path)!r}: {exc}") from None
        self._check_schema()

    def _check_schema(self) -> None:
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise StoreError(f"{str(self.path)!r} is not a fairx results database ({exc})") from None
        if row is None:
            self.conn.close()
            raise StoreError(f"{str(self.path)!r} is not a fairx results database (no schema version)")

    # ------------------------------------------------------------------ one writer
    def acquire(self) -> None:
        """Record this process as the database's only writer, or raise "in use by pid …".

        A record left by a process that no longer runs (killed with -9) is taken over.
        """
        me, host = os.getpid(), socket.gethostname()

        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            row = self.conn.execute("SELECT pid, host, started FROM writer WHERE id = 1").fetchone()
            if row is not None and row[0] != me:
                pid, other, started = row
                if other != host or _pid_alive(int(pid)):
                    raise StoreError(f"results database {str(self.path)!r} is in use by pid {pid} "
                                     f"on {other} (since {started}); wait for it to finish or "
                                     "give another --db")
            self.conn.execute("INSERT OR REPLACE INTO writer VALUES (1, ?, ?, ?)", (me, host, now))
        self._owner = True

    def release(self) -> None:
        if self._owner:
            with self.conn:
                self.conn.execute("DELETE FROM writer WHERE id = 1 AND pid = ?", (os.getpid(),))
            self._owner = False

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.release()
        finally:
            self.conn.close()

    # ------------------------------------------------------------------ writing
    def set_meta(self, **items: Any) -> None:
        with self.conn:
            for k, v in items.items():
                self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                  (k, v if isinstance(v, str) else json.dumps(v, default=str)))

    def write_cell(self, record: dict[str, Any], *, replace: bool = False) -> bool:
        """Write one finished cell (ok or failed) in one transaction; return whether it was written.

        Cells are only added: a finished (``ok``) cell with the same key (same configuration) is
        kept unless ``replace``; a stored failure of that key is replaced by the new attempt.
        Cells of other configurations are never touched.
        """
        key = record["key"]
        with self.conn:  # one transaction: all rows of the cell or none
            old = self.conn.execute("SELECT status FROM cells WHERE key = ?", (key,)).fetchone()
            if old is not None and old[0] == "ok" and not replace:
                return False
            if old is not None:
                for table, col in (("cells", "key"), ("results", "cell_key"), ("groups", "cell_key"),
                                   ("samples", "cell_key"), ("importances", "cell_key")):
                    self.conn.execute(f"DELETE FROM {table} WHERE {col} = ?", (key,))
            row = []
            for c in _CELL_COLUMNS:
                v = record.get(c)
                if isinstance(v, (dict, list)):
                    v = json.dumps(v, sort_keys=True, default=str)
                row.append(v)
            self.conn.execute(f"INSERT INTO cells VALUES ({','.join('?' * len(_CELL_COLUMNS))})", row)
            self.conn.executemany(
                "INSERT INTO results VALUES (?, ?, ?)",
                [(key, str(m), _num(v)) for m, v in (record.get("metrics") or {}).items()])
            self.conn.executemany(
                "INSERT INTO groups VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(key, str(g.get("attribute")), str(g.get("group")), g.get("size"),
                  _num(g.get("selection_rate")), _num(g.get("tpr")), _num(g.get("fpr")),
                  int(bool(g.get("small", False)))) for g in record.get("groups") or []])
            self.conn.executemany(
                "INSERT INTO samples VALUES (?, ?, ?, ?)",
                [(key, kind, json.dumps(s["schema"], default=str), s["rows"])
                 for kind, s in (record.get("samples") or {}).items()])
            self.conn.executemany(
                "INSERT INTO importances VALUES (?, ?, ?, ?)",
                [(key, str(i["feature"]), str(i["source"]), _num(i["value"]))
                 for i in record.get("importances") or []])
        return True

    # ------------------------------------------------------------------ reading
    def completed_keys(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT key FROM cells WHERE status = 'ok'")}

    def meta(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    def cells(self) -> pd.DataFrame:
        return pd.read_sql_query("SELECT * FROM cells ORDER BY position, key", self.conn)

    def results(self, *, status: str | None = "ok", latest: bool = True) -> pd.DataFrame:
        """Tidy rows joined with their cell: dataset, sensitive, method, stage, seed, metric, value.

        ``latest``: only the newest finished configuration of each (dataset, sensitive, method,
        seed); ``False``: every stored cell (select a spec's cells by their keys).
        """
        conds = (["c.status = ?"] if status else []) + ([_LATEST] if latest else [])
        where = ("WHERE " + " AND ".join(conds)) if conds else ""
        args: Iterable[Any] = (status,) if status else ()
        return pd.read_sql_query(
            "SELECT c.dataset, c.sensitive, c.method, c.stage, c.seed, c.position, r.metric, "
            "r.value, r.cell_key FROM results r JOIN cells c ON c.key = r.cell_key "
            f"{where} ORDER BY c.position, r.metric", self.conn, params=tuple(args))

    def groups(self) -> pd.DataFrame:
        return pd.read_sql_query(
            "SELECT c.dataset, c.sensitive, c.method, c.stage, c.seed, c.position, g.attribute, "
            "g.grp AS 'group', g.size, g.selection_rate, g.tpr, g.fpr, g.small FROM groups g "
            f"JOIN cells c ON c.key = g.cell_key WHERE c.status = 'ok' AND {_LATEST} "
            "ORDER BY c.position",
            self.conn)

    def samples(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT c.dataset, c.sensitive, c.method, c.seed, s.kind, s.schema, s.rows FROM samples s "
            f"JOIN cells c ON c.key = s.cell_key WHERE c.status = 'ok' AND {_LATEST} "
            "ORDER BY c.position").fetchall()
        out = []
        for dataset, sensitive, method, seed, kind, schema, data in rows:
            out.append({"dataset": dataset, "sensitive": sensitive, "method": method, "seed": seed,
                        "kind": kind, "schema": json.loads(schema),
                        "frame": pd.read_json(_io(data), orient="split")})
        return out

    def importances(self) -> pd.DataFrame:
        return pd.read_sql_query(
            "SELECT c.dataset, c.sensitive, c.method, c.seed, c.position, i.feature, i.source, "
            "i.value FROM importances i JOIN cells c ON c.key = i.cell_key WHERE c.status = 'ok' "
            f"AND {_LATEST} ORDER BY c.position", self.conn)

    def failures(self) -> pd.DataFrame:
        return pd.read_sql_query(
            "SELECT key, dataset, sensitive, method, seed, error, traceback FROM cells "
            "WHERE status != 'ok' ORDER BY position", self.conn)


def _io(text: str):

    return StringIO(text)


def frame_to_json(frame: pd.DataFrame) -> str:
    """Rows as JSON text (``orient="split"``) for the samples table."""
    return frame.to_json(orient="split", index=False, date_format="iso")
