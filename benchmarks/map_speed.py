"""The embedding map at scale in a real JupyterLab (headless Chromium).

Run:  .venv/bin/python benchmarks/map_speed.py [--rows 100000 1000000]

Runs ``test_the_map_at_scale`` in tests/ui/test_map.py once per row count: a notebook labels a
pool of table rows (16 numeric columns, 12 clusters), then displays ``al.map``. It prints:

- time from running the map's cell until the page has drawn every point (the projection, the
  first frame of the pool, the transfer), and the projection's own share;
- frame intervals while the map is panned (a drag of 60 small moves, one each 16 ms; the page
  counts its frames with requestAnimationFrame) and the long animation frames the browser's
  performance timeline reports (over 50 ms);
- the kernel's resident memory before the map, with it, and after 30 labels;
- the bytes the page received over the kernel's websocket to draw the map, and for one redraw
  after 30 labels (the redraw sends every point's encoding again).

Needs the browser-test set-up (Chromium, Playwright, the card built with ``npm run build``).
The saved output is results/map_speed.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIGURES = REPO / "tests" / "ui" / "artifacts" / "map_load.json"


def run_one(rows: int) -> dict | None:
    FIGURES.unlink(missing_ok=True)
    env = {**os.environ, "ACTIVELABEL_MAP_ROWS": str(rows)}
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "pytest", "tests/ui/test_map.py", "-q", "-m", "browser",
                          "-k", "at_scale", "-p", "no:cacheprovider"], cwd=REPO, env=env, capture_output=True, text=True)
    if run.returncode != 0 or not FIGURES.exists():
        print(run.stdout[-3000:], run.stderr[-2000:], sep="\n")
        print(f"{rows:,} rows: no figures (exit {run.returncode})")
        return None
    figures = json.loads(FIGURES.read_text())
    print(f"{rows:,} rows measured in {time.monotonic() - started:.0f} s with server start and shutdown", flush=True)
    return figures


def table(results: list[dict]) -> str:
    rows = [
        ("points", lambda r: f"{r['rows']:,}"),
        ("run cell -> every point drawn (s)", lambda r: f"{r['until_drawn_s']:.1f}"),
        ("  of which the projection (s)", lambda r: f"{r['projection_s']:.1f}"),
        ("frame interval panning, median (ms)", lambda r: f"{r['frame_median_ms']:.1f}"),
        ("frame interval panning, p95 (ms)", lambda r: f"{r['frame_p95_ms']:.1f}"),
        ("long animation frames while panning", lambda r: f"{r['long_frames']} of {r['frames']}"),
        ("kernel RSS before the map (MB)", lambda r: f"{r['kernel_rss_before_mb']:.0f}"),
        ("kernel RSS with the map (MB)", lambda r: f"{r['kernel_rss_map_mb']:.0f}"),
        ("kernel RSS after 30 labels (MB)", lambda r: f"{r['kernel_rss_after_labels_mb']:.0f}"),
        ("bytes to the page to draw (MB)", lambda r: f"{r['bytes_to_draw'] / 1e6:.1f}"),
        ("bytes to the page per redraw (MB)", lambda r: f"{r['bytes_per_redraw'] / 1e6:.1f}"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  " + "  ".join(f"{get(r):>12}" for r in results) for name, get in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    results = [r for r in (run_one(rows) for rows in args.rows) if r is not None]
    if results:
        print()
        print(table(results))
    return 0 if len(results) == len(args.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
