"""Agreement figures against reference libraries, on random answer tables.

Run:  .venv/bin/pip install krippendorff statsmodels   # reference implementations, not dependencies
      .venv/bin/python benchmarks/agreement_check.py [--tables 200]

For each random table (20-300 records, 2-6 labels, 2-5 answers per record, some answers
missing for Krippendorff's alpha) it compares :mod:`activelabel_widget.agreement` with
scikit-learn's ``cohen_kappa_score``, statsmodels' ``fleiss_kappa`` and the ``krippendorff``
package's nominal alpha, and prints the largest difference per measure and the time each took.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from activelabel_widget.agreement import cohen_kappa, fleiss_kappa, krippendorff_alpha  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=200)
    args = parser.parse_args()
    import krippendorff
    from sklearn.metrics import cohen_kappa_score
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

    rng = np.random.default_rng(0)
    worst = {"cohen": 0.0, "fleiss": 0.0, "alpha": 0.0}
    seconds = {name: [0.0, 0.0] for name in worst}
    for _ in range(args.tables):
        records, labels, raters = int(rng.integers(20, 300)), int(rng.integers(2, 7)), int(rng.integers(2, 6))
        truth = rng.integers(0, labels, records)
        # annotators mostly agree with the truth, so the figures are not all near 0
        answers = np.where(rng.random((raters, records)) < 0.7, truth, rng.integers(0, labels, (raters, records)))

        started = time.perf_counter(); ours = cohen_kappa(answers[0], answers[1]); seconds["cohen"][0] += time.perf_counter() - started
        started = time.perf_counter(); theirs = cohen_kappa_score(answers[0], answers[1]); seconds["cohen"][1] += time.perf_counter() - started
        worst["cohen"] = max(worst["cohen"], abs(ours - theirs))

        counts = np.stack([(answers == label).sum(axis=0) for label in range(labels)], axis=1)
        started = time.perf_counter(); ours = fleiss_kappa(counts); seconds["fleiss"][0] += time.perf_counter() - started
        started = time.perf_counter(); theirs = sm_fleiss(counts); seconds["fleiss"][1] += time.perf_counter() - started
        worst["fleiss"] = max(worst["fleiss"], abs(ours - theirs))

        missing = rng.random((raters, records)) < 0.2
        reliability = np.where(missing, np.nan, answers.astype(float))
        present = ~missing
        counts = np.stack([((answers == label) & present).sum(axis=0) for label in range(labels)], axis=1)
        started = time.perf_counter(); ours = krippendorff_alpha(counts); seconds["alpha"][0] += time.perf_counter() - started
        started = time.perf_counter()
        theirs = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal",
                                    value_domain=list(range(labels)))
        seconds["alpha"][1] += time.perf_counter() - started
        worst["alpha"] = max(worst["alpha"], abs(ours - theirs))

    print(f"{args.tables} random answer tables (20-300 records, 2-6 labels, 2-5 answers per record; 20% of answers "
          "missing for alpha)")
    print(f"{'measure':32} {'reference':34} {'largest difference':>18} {'ours ms':>8} {'ref ms':>8}")
    names = {"cohen": ("Cohen's kappa", "sklearn cohen_kappa_score"),
             "fleiss": ("Fleiss' kappa", "statsmodels fleiss_kappa"),
             "alpha": ("Krippendorff's alpha (nominal)", "krippendorff.alpha")}
    for key, (measure, reference) in names.items():
        print(f"{measure:32} {reference:34} {worst[key]:>18.2e} {1000 * seconds[key][0] / args.tables:>8.3f} "
              f"{1000 * seconds[key][1] / args.tables:>8.3f}")


if __name__ == "__main__":
    main()
