"""The predictivity chapter (R7): participation ratio and neural predictivity per run, random features, their rank
correlation. Pure functions on the tables of :mod:`gridbook.runs.load` and on arrays; the notebook holds prose,
parameters and calls."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from gridbook.analysis.pipeline import maps_participation_ratio
from gridbook.analysis.stats import rank_correlation_test

__all__ = [
    'predictivity_comparison', 'predictivity_rank_correlation', 'predictivity_table',
    'random_feature_table', 'run_label',
]


def run_label(row, fields: Sequence[str]) -> str:
    """A short label naming a run by the given config fields, e.g. ``dos/relu`` (``untrained`` when n_steps = 0)."""
    label = "/".join(str(row[f]) for f in fields)
    return label + (" untrained" if int(row.get("n_steps", 1)) == 0 else "")


def predictivity_table(store, results, target_maps, label_fields: Sequence[str] = ("target", "activation"),
                       n_splits: int = 10, seed: int = 0):
    """Participation ratio of each run's rate maps and their neural predictivity of ``target_maps`` (C, n, n; the
    same bins as the runs' maps). One row per run: run_id, label, trained, participation_ratio, predictivity."""
    import pandas as pd

    from gridbook.analysis.predictivity import neural_predictivity
    from gridbook.runs.load import load_run

    rows = []
    for row in results.to_dict("records"):
        maps = load_run(store, row["run_id"]).ratemaps.maps  # (U, n, n), NaN unvisited
        maps = maps[np.nanstd(maps.reshape(len(maps), -1), axis=1) > 0]  # silent units carry no dimension
        pr = maps_participation_ratio(maps) if len(maps) else float("nan")
        pred = neural_predictivity(maps, target_maps, n_splits=n_splits, seed=seed).median if len(maps) else math.nan
        rows.append({"run_id": row["run_id"], "label": run_label(row, label_fields), "trained": row["n_steps"] > 0,
                     "participation_ratio": pr, "predictivity": pred})
    return pd.DataFrame(rows, columns=["run_id", "label", "trained", "participation_ratio", "predictivity"])


def random_feature_table(target_maps, n_features: int, dims: Sequence[int], n_splits: int = 10, seed: int = 0):
    """Participation ratio and neural predictivity of random-feature maps spanning each of ``dims`` dimensions."""
    import pandas as pd

    from gridbook.analysis.predictivity import neural_predictivity, participation_ratio, random_feature_maps

    n_bins = int(np.asarray(target_maps).shape[-1])
    rows = []
    for d in dims:
        maps = random_feature_maps(n_features, int(d), n_bins=n_bins, seed=seed)  # (F, n, n)
        rows.append({"label": f"random features, {d} dims", "dims": int(d), "participation_ratio":
                     participation_ratio(maps), "predictivity":
                     neural_predictivity(maps, target_maps, n_splits=n_splits, seed=seed).median})
    return pd.DataFrame(rows, columns=["label", "dims", "participation_ratio", "predictivity"])


def predictivity_rank_correlation(table) -> tuple[float, int]:
    """The Spearman correlation of ``predictivity`` with ``participation_ratio`` over the rows where both are known,
    and the number of those rows (NaN with fewer than 3; :func:`gridbook.analysis.stats.rank_correlation_test`)."""
    test = rank_correlation_test(table["participation_ratio"], table["predictivity"])
    return test.rho, test.n


def predictivity_comparison(models, baselines):
    """The networks' predictivity table (:func:`predictivity_table`) and the random-feature baselines
    (:func:`random_feature_table`) as one table with a ``kind`` column: trained, untrained or random features."""
    import pandas as pd

    kinds = models.assign(kind=models["trained"].map({True: "trained", False: "untrained"}))
    return pd.concat([kinds, baselines.assign(kind="random features")], ignore_index=True)
