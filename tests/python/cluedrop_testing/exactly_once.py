"""The coordinator's exactly-once invariant, checked from outside: every
shard of a job is SCORED once, with one payload file that state.db refers
to, and the file's document count and CRC-32C (recomputed here by an
independent reader) match the row.

Example:
    shards = check_exactly_once(cluster.data_dir, job_id)
"""

import os
import sqlite3

from .report import fail
from .shard_file import read_shard_file


def check_exactly_once(data_dir: str, job_id: str) -> int:
    """Fails (exit 1) unless the invariant holds; returns the shard count."""
    db = sqlite3.connect(f"file:{data_dir}/state.db?mode=ro", uri=True, timeout=10)
    try:
        rows = db.execute("SELECT shard_id, state, checksum, payload_key, doc_count FROM shards "
                          "WHERE job_id = ? ORDER BY idx", (job_id,)).fetchall()
    finally:
        db.close()
    if not rows:
        fail("no shards in state.db")
    job_dir = os.path.join(data_dir, "shards", job_id)
    files = sorted(f for f in os.listdir(job_dir) if not f.startswith("."))
    referenced = sorted(f"{key}.shard" for _, _, _, key, _ in rows)
    if files != referenced:
        fail(f"shard files {files} != the payloads state.db references {referenced}")
    for shard_id, state, checksum, key, doc_count in rows:
        if state != 2:
            fail(f"shard {shard_id} state {state}, want SCORED (2)")
        if not key.startswith(shard_id + "."):
            fail(f"shard {shard_id} payload key {key}")
        count, crc = read_shard_file(os.path.join(job_dir, key + ".shard"))
        if crc != checksum or count != doc_count:
            fail(f"shard {shard_id}: file crc {crc:#x}/{count} docs, state.db {checksum:#x}/{doc_count}")
    return len(rows)
