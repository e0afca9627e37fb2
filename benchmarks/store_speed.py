"""Store speed: reopening a store with many labels, and memory over re-runs of the labeler's cell.

Reopen: a table of ``n`` rows, every row labeled at once through the product's own
``label_many`` (as ``promote_weak`` does: one transaction, one undo step), then the labeler is
closed (which keeps a snapshot of the state in the file) and opened again. Reported:

* ``replay s``: the store's replay on its own (snapshot, then the events after it);
* ``reopen s``: a whole ``LabelingSession`` on the same DataFrame (data checks, record hashes,
  replay, matching labels to records, the line), background rounds off;
* the same two with the snapshot removed (the full log replayed), for comparison.

Re-runs: ``ActiveLabeler`` on a 100k-row text table created again on the same store, as a
re-run notebook cell does, five times; the process's resident memory after each (``gc``
collected), and how many of the labelers' sessions are still alive (1 means every older one
was freed).

Run from the repository root::

    .venv/bin/python benchmarks/store_speed.py                 # 1,000,000 labels; 5 re-runs at 100k
    .venv/bin/python benchmarks/store_speed.py --rows 100000   # quicker
"""

from __future__ import annotations

import argparse
import gc
import os
import sqlite3
import tempfile
import time
import weakref
from pathlib import Path

import numpy as np
import pandas as pd

from activelabel_widget import ActiveLabeler, LabelingSession
from activelabel_widget.store import LabelStore

LABELS = ["a", "b", "c"]


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def table(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})


def timed(call):
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def reopen(n: int) -> list[dict]:
    df = table(n)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.db"
        session = LabelingSession(df, features=["x", "y"], labels=LABELS, store=path, background=False,
                                  retrain_every=10**9)
        codes = np.random.default_rng(1).integers(0, 3, size=n)
        _, seconds = timed(lambda: session.label_many(np.arange(n), [LABELS[c] for c in codes], source="weak"))
        print(f"labeled {n:,} rows in one step: {seconds:.1f} s", flush=True)
        session.close()
        for with_snapshot in (True, False):
            if not with_snapshot:
                conn = sqlite3.connect(path)
                conn.execute("DELETE FROM snapshot")
                conn.commit()
                conn.close()
            store = LabelStore(path, labels=LABELS)
            state, replay = timed(store.replay)
            store.close()
            assert len(state.labels) == n
            again, seconds = timed(lambda: LabelingSession(df, features=["x", "y"], labels=LABELS, store=path,
                                                           background=False, retrain_every=10**9))
            assert again.progress["labeled"] == n
            again.close()
            rows.append({"labels": n, "snapshot": "yes" if with_snapshot else "no (full log)",
                         "replay s": round(replay, 2), "reopen s": round(seconds, 2)})
    return rows


def reruns(n: int, times: int) -> list[dict]:
    rng = np.random.default_rng(0)
    words = np.array(["crash", "add", "please", "how", "error", "export", "login", "dark", "mode", "sync"])
    df = pd.DataFrame({"body": [" ".join(rng.choice(words, 8)) for _ in range(n)]})
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.db"
        al, sessions = None, []
        for number in range(1, times + 1):
            al = ActiveLabeler(df, text="body", labels=LABELS, store=path)  # a re-run cell: `al` rebound
            al.widget  # noqa: B018 - the card is shown, as in a notebook
            al.session.wait_idle(timeout=600)
            for _ in range(3):
                al.session.label(al.session.current, LABELS[0])
            al.session.wait_idle(timeout=600)
            sessions.append(weakref.ref(al.session))
            gc.collect()
            rows.append({"run": number, "rows": n, "RSS MB": round(rss_mb()),
                         "sessions alive": sum(ref() is not None for ref in sessions)})
            print(rows[-1], flush=True)
        al.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rerun-rows", type=int, default=100_000)
    parser.add_argument("--reruns", type=int, default=5)
    args = parser.parse_args()
    print(pd.DataFrame(reopen(args.rows)).to_string(index=False))
    print()
    print(pd.DataFrame(reruns(args.rerun_rows, args.reruns)).to_string(index=False))


if __name__ == "__main__":
    main()
