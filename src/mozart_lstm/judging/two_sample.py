"""Classifier two-sample test (Lopez-Paz and Oquab, "Revisiting classifier two-sample tests", ICLR 2017): can a
classifier tell the generated music from Mozart's?

Both sides are cut into stretches of STRETCH_QUARTERS quarters, one vector each (`stretch_vectors`). A logistic
regression on the standardised vectors (scikit-learn, C = 1, the two classes weighted to balance) is
cross-validated by piece: each side's pieces are dealt in turn into FOLDS folds (fewer when a side has fewer
pieces), and every fold is predicted by a model fitted on the others, so no piece is both in training and in
testing. A Mozart stretch is judged by a model that never saw its sonata. The accuracy is balanced (the mean of
the two sides' held-out accuracies), so that 0.5 is chance whatever the sides' sizes: 0.5 = indistinguishable.
The classifier is never weakened to flatter a floor: Mozart against Mozart is what it is (docs/judging_music.md).

Spread: a bootstrap over pieces of the held-out predictions (`resampling`; the model is not refitted). `spread`
and `ci95` resample both sides; `pieces_needed` is how many generated pieces bring the spread below 0.02, with
Mozart's side (fixed by the split) as it is.
"""

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from mozart_lstm.judging.reference import Stretch
from mozart_lstm.judging.resampling import bootstrap, pieces_needed, summary
from mozart_lstm.judging.stretch_vectors import NAMES, STRETCH_QUARTERS, piece_vectors

FOLDS = 5
MIN_PIECES = 2  # per side: with one, no model could be fitted without it
TELLING = 3  # the features printed as what tells the sides apart


def side_vectors(pieces: Sequence[Stretch], quarters: float) -> tuple[np.ndarray, np.ndarray]:
    """(vectors, the index of each one's piece among the side's pieces that hold a whole stretch)."""
    names: dict[str, int] = {}
    rows, owners = [], []
    for stretch in pieces:
        vectors = piece_vectors(stretch.events, quarters)
        if len(vectors):
            rows.append(vectors)
            owners += [names.setdefault(stretch.piece, len(names))] * len(vectors)
    return (np.concatenate(rows) if rows else np.empty((0, len(NAMES)))), np.array(owners, dtype=int)


def classifier():
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000))


def two_sample_test(generated: Sequence[Stretch], mozart: Sequence[Stretch], quarters=STRETCH_QUARTERS) -> dict:
    """The held-out balanced accuracy of telling `generated` from `mozart` (see the module); `why` says in one
    line why there is none."""
    sides = [side_vectors(generated, quarters), side_vectors(mozart, quarters)]
    counts = [int(owners.max()) + 1 if len(owners) else 0 for _, owners in sides]
    if min(counts) < MIN_PIECES:
        why = (
            f"no classifier test: it needs {MIN_PIECES} pieces a side with a whole stretch of {quarters:g} quarters, "
            f"got {counts[0]} generated and {counts[1]} of Mozart's (longer pieces: n_notes; more: judge_pieces)"
        )
        return {"accuracy": None, "why": why}
    folds = min(FOLDS, *counts)
    vectors = np.concatenate([sides[0][0], sides[1][0]])
    labels = np.repeat([0, 1], [len(sides[0][1]), len(sides[1][1])])
    fold = np.concatenate([owners % folds for _, owners in sides])
    with threadpool_limits(limits=1):  # a few hundred rows: BLAS threads would only fight other processes
        predicted = cross_val_predict(classifier(), vectors, labels, groups=fold, cv=LeaveOneGroupOut())
        weights = classifier().fit(vectors, labels)[-1].coef_[0]  # > 0: more of it reads as Mozart
    right = [(predicted == labels)[labels == side] for side in (0, 1)]
    hits = [np.bincount(owners, r, count) for (_, owners), r, count in zip(sides, right, counts, strict=True)]
    totals = [np.bincount(owners, None, count) for (_, owners), count in zip(sides, counts, strict=True)]

    def accuracy(*picks) -> float:
        """The balanced accuracy over the pieces `picks[side]` of each side (a bootstrap repeats some)."""
        return float(np.mean([hits[k][p].sum() / totals[k][p].sum() for k, p in enumerate(picks)]))

    every = [np.arange(count) for count in counts]
    both = summary(bootstrap(accuracy, counts))
    generated_only = summary(bootstrap(lambda p: accuracy(p, every[1]), counts[:1]))["spread"]
    mozart_only = summary(bootstrap(lambda p: accuracy(every[0], p), counts[1:]))["spread"]
    return {
        "accuracy": accuracy(*every),
        **both,
        "side_accuracy": {"generated": float(right[0].mean()), "mozart": float(right[1].mean())},
        "pieces": {"generated": counts[0], "mozart": counts[1]},
        "stretches": {"generated": len(right[0]), "mozart": len(right[1])},
        "folds": folds,
        "quarters": quarters,
        "mozart_side_spread": mozart_only,
        "pieces_needed": pieces_needed(generated_only, counts[0], fixed=mozart_only),
        "telling": [f"{'+' if weights[i] > 0 else '-'}{NAMES[i]}" for i in np.argsort(-np.abs(weights))[:TELLING]],
        "why": None,
    }
