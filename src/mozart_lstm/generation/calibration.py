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
from dataclasses import dataclass

import torch
from tqdm import tqdm

from labtools.errors import SettingError
from mozart_lstm.data.timed_tokens import token_gaps
from mozart_lstm.generation.compare import compare_sets
from mozart_lstm.generation.features import piece_features, split_ngrams
from mozart_lstm.generation.music import DEFAULT_RHYTHM, make_timing, note_events
from mozart_lstm.generation.reference import mozart_reference
from mozart_lstm.generation.sampling import ARGMAX, MODES, SAMPLINGS, Sampler, generate_ids

log = logging.getLogger(__name__)

# The mode the grid composes in: one LSTM step per token, so that the grid costs seconds, not minutes
MODE = "stateful"


def seed_windows(dataset, count: int, seed: int) -> torch.Tensor:
    """`count` windows of a WindowDataset, drawn at random with `seed` (as generate.py draws its seeds)."""
    picks = torch.randint(len(dataset), (count,), generator=torch.Generator().manual_seed(seed))
    return torch.stack([dataset[i][0] for i in picks.tolist()])


def composed_features(
    model,
    seeds,
    vocab: Sequence[str],
    sampler: Sampler,
    n_notes: int,
    *,
    seed: int,
    corpus_rhythm: dict | None,
    train_grams: set,
    progress=None,
) -> list[dict]:
    """The features of the `n_notes` tokens `model` composes after each seed window, placed in time as
    generate.py's default rhythm places them (the tokens' own gaps for timed tokens, else the fixed grid)."""
    ids = generate_ids(model, seeds, n_notes, sampler=sampler, mode=MODE, seed=seed, progress=progress)
    features = []
    for k, row in enumerate(ids[:, seeds.shape[1] :].tolist()):
        tokens = [vocab[i] for i in row]
        gaps = token_gaps(tokens)
        timing = make_timing(len(tokens), DEFAULT_RHYTHM, corpus=corpus_rhythm, seed=seed + k, learned_gaps=gaps)
        features.append(piece_features(note_events(tokens, timing), train_grams))
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
    vocab = datamodule.vocab.tokens
    train_grams = split_ngrams(datamodule.train_set, vocab)
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
            features = composed_features(model, val_seeds, vocab, sampler, n_notes, progress=_advancing(bar), **common)
            scores.append(compare_sets(features, val_reference)["overlap"])
    best = max(range(len(grid)), key=lambda i: scores[i])
    chosen = Sampler("temperature", float(grid[best][0]), top_p=float(grid[best][1]))
    test_reference = mozart_reference(datamodule, n_notes, reference_size, train_grams, split="test")
    test_features = composed_features(
        model, seed_windows(datamodule.test_set, pieces, seed), vocab, chosen, n_notes, **common
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


# generate.py's `sampler=calibrated` (the default) and `mode=auto`
CALIBRATED = "calibrated"
AUTO_MODE = "auto"
UNCALIBRATED_HINT = "sampler=temperature sampler.temperature=1.0 sampler.top_p=0.95 mode=stateful"


@dataclass(frozen=True)
class CalibratedSampler:
    """`sampler=calibrated` (conf/sampler/calibrated.yaml) before the checkpoint is read. A field given on the
    command line replaces the calibrated value; each is checked here as a temperature Sampler checks it."""

    sampling: str = CALIBRATED
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    repetition_penalty: float | None = None

    def __post_init__(self):
        if self.sampling != CALIBRATED:
            raise SettingError(
                f"sampling={self.sampling!r}: must be one of {SAMPLINGS}, chosen with sampler=<name>, or {CALIBRATED}"
            )
        Sampler("temperature", **self.fields)

    @property
    def fields(self) -> dict:
        names = ("temperature", "top_k", "top_p", "repetition_penalty")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


def choose_sampler(given, calibration: dict | None, mode: str, ckpt_path) -> tuple[Sampler, str, str]:
    """(sampler, mode, the line that says which and why) for a run of generate.py; `given` is a Sampler, or a
    CalibratedSampler for `sampler=calibrated`; `mode=auto` is the calibration's mode with its sampler, else the
    lab's window loop."""
    window = MODES[0] if mode == AUTO_MODE else mode
    if isinstance(given, Sampler):
        return given, window, f"sampler={given.sampling}, as given"
    if calibration is not None:
        sampler = Sampler(**calibration["sampler"] | given.fields)
        as_given = "".join(f", sampler.{key}={value} as given" for key, value in given.fields.items())
        chosen_mode = calibration["mode"] if mode == AUTO_MODE else mode
        return sampler, chosen_mode, f"the checkpoint's calibrated sampler: {describe(calibration)}{as_given}"
    if given.fields:
        return (
            Sampler("temperature", **given.fields),
            window,
            f"{ckpt_path} has no calibrated sampler: temperature sampling as given",
        )
    why = (
        f"{ckpt_path} has no calibrated sampler (its run had no validation split): composing with argmax, the lab's "
        f"generator; for music closer to Mozart's pass {UNCALIBRATED_HINT}"
    )
    return ARGMAX, window, why
