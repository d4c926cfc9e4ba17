"""Who composes (`composer=`): the checkpoint's network; a smoothed n-gram counted on the same training split; or
Mozart himself.

`composer=mozart` plays held-out Mozart's own tokens, in the checkpoint's vocabulary, through the same decoder as
the network's tokens (the rhythm, the MIDI, the judge). Whatever it loses against Mozart's real music is what
the tokenization loses, so its overlap is the most that representation can score. Its pieces come from the
validation sonatas, while Mozart's reference in the report is cut from the test sonatas: no set is compared
with itself. That needs whole sonatas held out for validation (`data.split_by=piece` and a 3-way `data.split`):
the windows of a window split interleave, so a validation stretch would share its notes with a test stretch.
"""

import logging
import time

import torch

from labtools.errors import UserError
from mozart_lstm.baselines.ngram import NGramComposer, fit_training_ngram
from mozart_lstm.composing.budget import token_bar
from mozart_lstm.composing.sampling import Sampler, generate_ids
from mozart_lstm.data.windows import SPLIT_BY, piece_bounds
from mozart_lstm.judging.reference import stretch_starts

log = logging.getLogger(__name__)

MOZART = "mozart"
COMPOSERS = ("network", "ngram", MOZART)
# how many stretches stretch_starts may return: all of those that fit
EVERY_STRETCH = 2**62


def check_mozart_split(data_settings: dict, ckpt_path) -> None:
    """One line when the checkpoint's run held no whole sonatas out for validation: composer=mozart needs them."""
    split, split_by = data_settings.get("split", (0.8, 0.2)), data_settings.get("split_by", SPLIT_BY[0])
    if len(split) == 3 and split_by == "piece":
        return
    why = (
        "had no validation split: its only held-out Mozart is the test split of the reference"
        if len(split) != 3
        else "split by window (data.split_by=window): its validation stretches share notes with the reference's"
    )
    raise UserError(
        f"composer=mozart: {ckpt_path}'s run {why}; use a checkpoint of a run with whole sonatas held out for "
        "validation, data.split_by=piece and a 3-way data.split (experiment=recipe has both)"
    )


def mozart_pieces(datamodule, seed_len: int, n_notes: int, count: int, seed: int) -> torch.Tensor:
    """(pieces, seed_len + n_notes) ids: up to `count` non-overlapping stretches of the validation sonatas,
    drawn at random with `seed` from all that fit; the first `seed_len` tokens stand where the network's seed
    window stands, and the report judges the `n_notes` after them, as it judges the network's."""
    length = seed_len + n_notes
    lengths = [len(piece.tokens) for piece in datamodule.pieces()]
    found = stretch_starts(datamodule.val_set.starts.tolist(), lengths, length, EVERY_STRETCH)
    if not found:
        raise UserError(
            f"composer=mozart: no validation sonata holds {length} tokens ({seed_len} seed + n_notes={n_notes}): "
            "lower n_notes"
        )
    if len(found) < count:
        log.warning(
            "composer=mozart: the validation sonatas hold %d stretches of %d tokens, not num_samples=%d: playing %d",
            len(found), length, count, len(found),
        )  # fmt: skip
    picks = torch.randperm(len(found), generator=torch.Generator().manual_seed(seed))[:count].tolist()
    bounds = piece_bounds(lengths)
    begins = [bounds[found[i][0]][0] + found[i][1] for i in sorted(picks)]
    rows = [datamodule.val_set.ids[begin : begin + length] for begin in begins]
    log.info(
        "composer=mozart: %d stretches of %d tokens of the validation sonatas (of %d that fit), played as the "
        "checkpoint's tokens; the sampler is not used",
        len(rows), length, len(found),
    )  # fmt: skip
    return torch.stack(rows)


def composing_model(composer: str, network, datamodule, ngram_order: int | None):
    """The model behind `generate_ids`: the network, or the n-gram of the same training split."""
    if composer != "ngram":
        return network
    model = NGramComposer(fit_training_ngram(datamodule, ngram_order))
    log.info("composing with a %d-gram counted on the training split", model.ngram.order)
    return model


def compose(cfg, network, datamodule, seeds: torch.Tensor, sampler: Sampler, mode: str, window: int, device):
    """Every piece of the run as ids (pieces, seed + n_notes): `seeds` continued by cfg.composer, or for
    composer=mozart Mozart's own stretches of that shape. `window` is the training window (0: the seed's)."""
    if cfg.composer == MOZART:
        return mozart_pieces(datamodule, seeds.shape[1], cfg.n_notes, len(seeds), cfg.seed)
    model = composing_model(cfg.composer, network, datamodule, cfg.ngram_order)
    # only now: rebuilding the data may fork music21 parse workers, which must not inherit a CUDA context
    model.to(device)
    started = time.perf_counter()
    with token_bar(cfg.n_notes, len(seeds)) as progress:
        ids = generate_ids(
            model, seeds, cfg.n_notes, sampler=sampler, mode=mode, window=window or None, seed=cfg.seed,
            progress=progress,
        )  # fmt: skip
    seconds = time.perf_counter() - started
    log.info(
        "generated %d x %d tokens in %.2f s (%.0f tokens/s, mode=%s)",
        len(seeds), cfg.n_notes, seconds, len(seeds) * cfg.n_notes / seconds, mode,
    )  # fmt: skip
    return ids


def made_by(composer: str, sampler: Sampler) -> str:
    """What the piano roll's title says of the part after the seed."""
    return "of Mozart's own (validation sonatas)" if composer == MOZART else f"generated ({sampler.sampling})"
