"""Team labeling on PostgreSQL against the SQLite store: answers per second and label to next card.

Run:  .venv/bin/python benchmarks/team_speed.py [--annotators 1 4 8] [--seconds 20] [--rows 20000]

Starts a PostgreSQL server of its own (Debian's, see tests/pg_server.py) on a free localhost
port. Each annotator is a process that opens the product's ``LabelingSession`` on the same
records (text tickets, ``retrain_every=10``, rounds in the background as on the card) and labels
the record on its card as fast as it can for ``--seconds``: each ``label()`` commits the answer,
leases the next records and shows the next one. The baseline, in the same run, is one annotator
on a SQLite file (one writer is all SQLite allows). Printed per setting: answers per second in
total, label to next card (median, 95th percentile), answers refused because someone else had
answered the record (a lease that lapsed; 0 expected), and acknowledged answers lost: answers
whose ``label()`` returned but which the store does not hold (0 expected).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]


def annotate(store: str, name: str, rows: int, seconds: float, start_at: float, results) -> None:
    from tickets import LABELS, ticket_frame

    from activelabel_widget import AlreadyAnsweredError, LabelingSession

    session = LabelingSession(ticket_frame(rows), text="body", labels=LABELS, store=store, annotator=name,
                              retrain_every=10)
    session.wait_idle(120)
    time.sleep(max(0.0, start_at - time.time()))  # everyone starts together
    latencies, acknowledged, refused = [], [], 0
    began_at = time.perf_counter()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        key = session.current
        if key is None:
            break
        began = time.perf_counter()
        try:
            session.label(key, session.dataset.df.loc[key, "truth"])
        except AlreadyAnsweredError:
            refused += 1
            continue
        latencies.append(1000 * (time.perf_counter() - began))
        acknowledged.append(session.dataset.keys[session.dataset.position(key)])  # the key as stored
    busy = time.perf_counter() - began_at
    session.close()
    results.put((name, latencies, acknowledged, refused, busy))


def run(store: str, annotators: int, rows: int, seconds: float) -> dict:
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    start_at = time.time() + 15 + 2 * annotators  # time for every process to open its session
    procs = [ctx.Process(target=annotate, args=(store, f"a{i}", rows, seconds, start_at, results))
             for i in range(annotators)]
    for proc in procs:
        proc.start()
    done = [results.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join(60)
    latencies = sorted(ms for _, values, _, _, _ in done for ms in values)
    acknowledged = [key for _, _, keys, _, _ in done for key in keys]
    stored = stored_labels(store)
    wall = max(b for *_, b in done)  # from the common start to the last annotator's end
    return {
        "answers": len(acknowledged), "per_second": len(acknowledged) / wall, "wall": wall,
        "median_ms": statistics.median(latencies) if latencies else float("nan"),
        "p95_ms": latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan"),
        "refused": sum(r for _, _, _, r, _ in done), "lost": len(set(acknowledged) - stored),
        "in_label_share": sum(latencies) / 1000 / sum(b for *_, b in done),
        "twice": len(acknowledged) - len(set(acknowledged)),
    }


def stored_labels(store: str) -> set[str]:
    from activelabel_widget.store import LabelStore
    from activelabel_widget.team_store import TeamStore, is_server_url

    opened = TeamStore(store, labels=[], annotator="reader") if is_server_url(store) else LabelStore(store, labels=[])
    try:
        return {e.key for e in opened.events() if e.action == "label"}
    finally:
        opened.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotators", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rows", type=int, default=20000)
    args = parser.parse_args()
    from pg_server import PostgresServer

    server = PostgresServer()
    table = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings = [("SQLite file", str(Path(folder) / "labels.db"), 1)]
            settings += [("PostgreSQL", server.new_database(), n) for n in args.annotators]
            for kind, store, n in settings:
                figures = run(store, n, args.rows, args.seconds)
                table.append((kind, n, figures))
                print(f"{kind:12} {n} annotator(s): {figures}", flush=True)
    finally:
        server.close()
    print(f"\n{args.rows:,} text records, retrain_every=10, each annotator labeling as fast as it can for "
          f"{args.seconds:g} s; label->next card is one label() call: commit, lease the next records, show the next")
    print(f"{'store':12} {'annotators':>10} | {'answers/s':>9} {'vs SQLite':>9} | {'label->next card ms':>19} {'p95':>6} | "
          f"{'refused':>7} {'twice':>5} {'lost':>4}")
    print("-" * 96)
    baseline = table[0][2]["per_second"]
    for kind, n, f in table:
        print(f"{kind:12} {n:>10} | {f['per_second']:>9.1f} {f['per_second'] / baseline:>8.2f}x | "
              f"{f['median_ms']:>19.1f} {f['p95_ms']:>6.1f} | {f['refused']:>7} {f['twice']:>5} {f['lost']:>4}")


if __name__ == "__main__":
    main()
