#!/usr/bin/env python3
"""Item 1, context: how fast SQLite itself commits single-row INSERT transactions when called
straight through its C API (Python's sqlite3 module), in a WAL file with synchronous=NORMAL as
freightdesk configures it, the same row as the store bench's plain INSERT. Beside the store
bench's plain INSERT through sqlx, it says how much of a command's cost is the async driver
(a hop to its worker thread and back per statement) and how much is ours.

  scripts/bench-sqlite-c.py OUT_JSON     (QUICK=1: shorter runs)
"""
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid

ROW = (
    "LocationRecorded",
    2,
    json.dumps({"location": "Basel", "lat": None, "lon": None,
                "recorded_at": "2026-11-28T10:00:00Z", "notes": None}),
    json.dumps({"actor": "bench", "correlation_id": str(uuid.uuid4()), "causation_id": None,
                "command": "RecordLocation"}),
)


def run(path, seconds):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("""CREATE TABLE IF NOT EXISTS plain (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, stream_id TEXT NOT NULL,
        version INTEGER NOT NULL, event_type TEXT NOT NULL, schema_version INTEGER NOT NULL,
        data TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at TEXT NOT NULL,
        UNIQUE (stream_id, version))""")
    stream, n = str(uuid.uuid4()), 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        n += 1
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO plain (id, stream_id, version, event_type, schema_version, data,"
                   " metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (str(uuid.uuid4()), stream, n, *ROW, "2026-11-28T10:00:00.000000Z"))
        db.execute("COMMIT")
    rate = n / (time.perf_counter() - started)
    db.close()
    return rate


def main():
    out = sys.argv[1]
    seconds = 0.3 if os.environ.get("QUICK", "") not in ("", "0") else 3.0
    with tempfile.TemporaryDirectory() as tmp:
        runs = [run(os.path.join(tmp, "c.db"), seconds) for _ in range(3)]
    value = statistics.median(runs)
    figure = {
        "item": 1,
        "name": "plain INSERT through SQLite's C API (Python sqlite3), 1 writer",
        "backend": "sqlite",
        "value": round(value),
        "unit": "inserts/s",
        "baseline_name": None,
        "baseline": None,
        "ratio": None,
        "target": "context",
        "met": None,
        "runs": [round(r) for r in runs],
        "spread": f"{round(min(runs))}–{round(max(runs))}",
    }
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"part": "sqlite-c", "figures": [figure],
                   "machine": {"python_sqlite_version": sqlite3.sqlite_version}}, f, indent=2)
    print(f"  [1] sqlite {figure['name']}: {figure['value']} inserts/s ({figure['spread']})")


if __name__ == "__main__":
    main()
