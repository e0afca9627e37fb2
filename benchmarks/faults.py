"""Nothing lost, nothing injected, in figures: a labeler killed while labeling, and awkward data.

1. Kills: a labeler labels (and now and then skips or undoes) as fast as it can on one store and
   is killed with SIGKILL 5-300 ms after it starts, ``--kills`` times in a row, each run resuming
   the store the last one left. After every kill the store is opened the way a new labeler opens
   it and replayed; it must hold every acknowledged action, give or take the one in flight (see
   ``benchmarks/kill_worker.py``).
2. Awkward data: ``--cases`` DataFrames generated as in ``tests/test_bad_data.py`` (mixed dtypes,
   categoricals, datetimes, missing values, 1 MB, emoji, right-to-left and zero-width text, every
   kind of index), each run through the whole labeling path or refused with a documented error.

The same checks run in the test suite with 100 kills and 60 cases. Run::

    python benchmarks/faults.py | tee benchmarks/results/faults.txt
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

from kill_worker import run_kills


from bad_data import describe, run_cases  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=300)
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7, help="seed of the kill moments and of the generated cases")
    args = parser.parse_args()

    print(f"faults: {args.kills} kills, {args.cases} generated cases, seed {args.seed}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        figures = run_kills(Path(folder) / "labels.db", kills=args.kills, seed=args.seed, fresh=3, check_session_every=100)
    print(f"\n1. killed while labeling ({time.perf_counter() - started:.0f} s)")
    for line in figures.lines():
        print("   " + line)
    for failure in figures.failures:
        print("   FAILURE " + failure)

    started = time.perf_counter()
    traits: Counter = Counter()
    try:
        outcomes = run_cases(args.cases, seed=args.seed, traits=traits)
    except Exception as error:  # print what failed, then exit non-zero: a benchmark reports, the tests decide
        print("\n2. awkward data: a case failed")
        print("".join(traceback.format_exception(error)))
        return 1
    print(f"\n2. awkward data ({time.perf_counter() - started:.0f} s)")
    print("   " + describe(outcomes))
    print("   cases holding each trait:")
    for trait, count in sorted(traits.items()):
        print(f"     {trait:<28} {count}")
    return 0 if not figures.failures else 1


if __name__ == "__main__":
    sys.exit(main())
