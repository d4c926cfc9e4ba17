"""The sampler calibrated on validation: a small grid of temperature x top-p, each setting composing the same
pieces from the same validation windows, scored by the music report's overlap with the validation sonatas.

The winner travels in the checkpoint (`sampler_calibration`), so that `generate.py` composes with it when no
`sampler=` is given. The test split's overlap is measured once, for the chosen setting only: choosing on the
test split would make its figure a best-of-nine.
"""

import itertools
import logging
import time
from collections.abc import Sequence

from tqdm import tqdm

from mozart_lstm.composing.held_out import mozart_reference, training_grams
from mozart_lstm.composing.sampling import Sampler, generate_ids
from mozart_lstm.composing.seeds import seed_windows
from mozart_lstm.judging.compare import compare_sets
from mozart_lstm.judging.features import piece_features
from mozart_lstm.tokenizers import MusicTokenizer
from mozart_lstm.tokenizers.rhythm import DEFAULT_RHYTHM

log = logging.getLogger(__name__)

# The mode the grid composes in: one LSTM step per token, so that the grid costs seconds, not minutes
MODE = "stateful"


def composed_features(
    model,
    seeds,
    vocab: Sequence[str],
    tokenizer: MusicTokenizer,
    sampler: Sampler,
    n_notes: int,
    *,
    seed: int,
    corpus_rhythm: dict | None,
    train_grams: set,
    progress=None,
) -> list[dict]:
    """The features of the `n_notes` tokens `model` composes after each seed window, placed in time as
    generate.py's default rhythm places them (the tokens' own gaps where they carry them, else the fixed grid)."""
    ids = generate_ids(model, seeds, n_notes, sampler=sampler, mode=MODE, seed=seed, progress=progress)
    features = []
    for k, row in enumerate(ids[:, seeds.shape[1] :].tolist()):
        events = tokenizer.decode([vocab[i] for i in row], DEFAULT_RHYTHM, corpus_rhythm, seed + k)
        features.append(piece_features(events, train_grams))
    return features


def _advancing(bar: tqdm):
    def steps(iterable):
        for step in iterable:
            yield step
            bar.update(1)

    return steps


def calibrate(
    model, datamodule, temperatures, top_ps, *, pieces: int, n_notes: int, seed: int, reference_size: int
) -> dict:
    """Score every temperature x top-p on the validation split, keep the best, then measure it on the test split.

    Returns a plain dict (it goes into the checkpoint): `sampler` (the Sampler's fields), `mode`, `val_overlap`,
    `test_overlap`, `grid` (every setting's validation overlap) and what the figures rest on.
    """
    started = time.perf_counter()
    vocab, tokenizer = datamodule.vocab.tokens, datamodule.tokenizer
    train_grams = training_grams(datamodule)
    common = {"corpus_rhythm": datamodule.rhythm, "train_grams": train_grams, "seed": seed}
    val_reference = mozart_reference(datamodule, n_notes, reference_size, train_grams, split="val")
    if len(val_reference) < 2:
        raise ValueError(f"the validation split holds {len(val_reference)} stretch(es) of {n_notes} tokens: need 2")
    val_seeds = seed_windows(datamodule.val_set, pieces, seed)
    grid = list(itertools.product(temperatures, top_ps))
    scores = []
    with tqdm(total=len(grid) * n_notes, desc="calibrating the sampler on validation", unit="token") as bar:
        for temperature, top_p in grid:
            sampler = Sampler("temperature", float(temperature), top_p=float(top_p))
            features = composed_features(
                model, val_seeds, vocab, tokenizer, sampler, n_notes, progress=_advancing(bar), **common
            )
            scores.append(compare_sets(features, val_reference)["overlap"])
    best = max(range(len(grid)), key=lambda i: scores[i])
    chosen = Sampler("temperature", float(grid[best][0]), top_p=float(grid[best][1]))
    test_reference = mozart_reference(datamodule, n_notes, reference_size, train_grams, split="test")
    test_features = composed_features(
        model, seed_windows(datamodule.test_set, pieces, seed), vocab, tokenizer, chosen, n_notes, **common
    )
    test_overlap = compare_sets(test_features, test_reference)["overlap"] if len(test_reference) >= 2 else None
    return {
        "sampler": {"sampling": chosen.sampling, "temperature": chosen.temperature, "top_p": chosen.top_p},
        "mode": MODE,
        "val_overlap": scores[best],
        "test_overlap": test_overlap,
        "grid": [{"temperature": t, "top_p": p, "val_overlap": s} for (t, p), s in zip(grid, scores, strict=True)],
        "pieces": pieces,
        "n_notes": n_notes,
        "reference_pieces": {"val": len(val_reference), "test": len(test_reference)},
        "seconds": round(time.perf_counter() - started, 1),
    }


def describe(calibration: dict) -> str:
    """One line: the chosen setting and what chose it."""
    sampler = calibration["sampler"]
    test = calibration.get("test_overlap")
    return (
        f"temperature {sampler['temperature']:g}, top-p {sampler['top_p']:g}, {calibration['mode']} mode: the best "
        f"of {len(calibration['grid'])} settings on the validation sonatas (overlap {calibration['val_overlap']:.3f}"
        + (f"; test sonatas {test:.3f}" if test is not None else "")
        + f", {calibration['pieces']} pieces of {calibration['n_notes']} tokens)"
    )
