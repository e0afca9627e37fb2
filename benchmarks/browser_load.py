"""Labeling at keyboard speed on the card in a real JupyterLab (headless Chromium).

Run:  .venv/bin/python benchmarks/browser_load.py [--presses 2000] [--rate 20] [--rows 3000]

Runs tests/ui/test_load.py with the long settings: a JupyterLab server in a temp dir, a notebook
with 3,000 movie-review snippets and ``retrain_every=10``, and ``--presses`` label keys pressed
on the card at ``--rate`` a second without waiting for the card (a capture-phase listener notes
the row on screen at each press). It prints, from the store, the intents the kernel received and
the presses: presses, labels stored, dropped, duplicated, refused as stale, labels on another row
than the one on screen, the time from a press to the next card, the kernel's time per intent,
wall time, and the kernel's VmRSS (sampled in the kernel every half second) at the first press,
along the way, at the end and at its peak. The same checks as the test must pass.

Needs the browser-test set-up (Chromium, Playwright, the card built with ``npm run build``).
The saved output is results/browser_load.txt. Latencies depend on how busy the CPU is; the counts
of dropped, duplicated and misapplied labels must be 0 whatever the speed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=20.0, help="key presses a second")
    parser.add_argument("--rows", type=int, default=3000)
    args = parser.parse_args()

    env = dict(os.environ)
    env.update({
        "ACTIVELABEL_LOAD_PRESSES": str(args.presses),
        "ACTIVELABEL_LOAD_RATE": str(args.rate),
        "ACTIVELABEL_LOAD_ROWS": str(args.rows),
    })
    result_file = REPO / "tests" / "ui" / "artifacts" / "browser_load.txt"
    if result_file.exists():
        result_file.unlink()
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/ui/test_load.py", "-q", "-m", "browser", "-p", "no:cacheprovider"],
        cwd=REPO, env=env, capture_output=True, text=True,
    )
    seconds = time.monotonic() - started
    if not result_file.exists():
        print(run.stdout[-4000:], run.stderr[-4000:], sep="\n")
        print(f"no figures: the run failed before the end (exit {run.returncode})")
        return 1
    print(result_file.read_text().rstrip())
    verdict = "all checks passed" if run.returncode == 0 else "CHECKS FAILED (see the test output)"
    print(f"  run                           {verdict}; {seconds:.0f} s with server start and shutdown")
    if run.returncode != 0:
        print(run.stdout[-4000:])
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
