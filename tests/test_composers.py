"""composer=mozart: held-out Mozart's own tokens through the checkpoint's decoder, from the validation sonatas while
the reference holds the test sonatas, in the report and the multirun table beside the network."""

import json
import logging
import re
from collections import Counter

import pytest
from music21 import converter

from labtools.errors import UserError
from mozart_lstm.composing.composers import check_mozart_split
from mozart_lstm.data.windows import piece_bounds
from mozart_lstm.generate import rebuild_data, run
from mozart_lstm.judging.report import REPORT_NAME, MusicReport
from mozart_lstm.judging.sweep import comparison_table
from mozart_lstm.models import read_checkpoint
from mozart_lstm.tokenizers import build_tokenizer

TIMED = build_tokenizer("timed")  # it reads pitch tokens too: their pitches, nothing after them

pytestmark = pytest.mark.usefixtures("single_torch_thread")
# one tiny piece of 60 tokens per split: whole sonatas held out for validation and for the test
PIECE_SPLIT = ["data.split=[0.3,0.35,0.35]", "data.split_by=piece", "trainer.max_epochs=1"]
QUIET = ["wav=false", "piano_roll=false"]
SEQ_LEN = 8  # the tiny model's window (tests/conftest.py)


@pytest.fixture(scope="module")
def piece_ckpts(tmp_path_factory, midi_dir, token_cache_dir) -> dict:
    """{tokenization: last.ckpt} of tiny runs on the piece split, on pitch and on timed tokens."""
    from tests.conftest import train_tiny

    ckpts = {}
    for tokenization in ("pitch", "timed"):
        out = tmp_path_factory.mktemp(f"piece_{tokenization}")
        train_tiny(out, midi_dir, token_cache_dir, *PIECE_SPLIT, f"data.tokenization={tokenization}")
        ckpts[tokenization] = out / "checkpoints" / "last.ckpt"
    return ckpts


@pytest.fixture
def generate_cfg(compose_cfg, tmp_path):
    def make(ckpt, *overrides, out_dir=tmp_path):
        return compose_cfg("generate", [f"ckpt={ckpt}", f"paths.output_dir={out_dir}", "judge_pieces=0", *overrides])

    return make


def split_pieces(ckpt) -> dict:
    """{"val": piece, "test": piece}: the one piece each held-out split of the tiny piece split holds."""
    datamodule = rebuild_data(read_checkpoint(ckpt))
    pieces, found = datamodule.pieces(), {}
    bounds = piece_bounds([len(piece.tokens) for piece in pieces])
    for name, dataset in (("val", datamodule.val_set), ("test", datamodule.test_set)):
        [index] = {next(i for i, (_, end) in enumerate(bounds) if s < end) for s in dataset.starts.tolist()}
        found[name] = pieces[index]
    return found


def position_in(tokens: list[str], piece) -> int:
    """Where `tokens` stand as one contiguous stretch of `piece` (the test fails when they do not)."""
    starts = [i for i in range(len(piece.tokens)) if piece.tokens[i : i + len(tokens)] == tokens]
    assert starts, f"{tokens[:4]}... is no stretch of {piece.name}"
    return starts[0]


def sounded(midi_path) -> Counter:
    """(onset, MIDI number) of every pitch the file sounds (music21 may merge notes of one onset into a chord)."""
    elements = converter.parse(midi_path).flatten().notes
    return Counter((float(e.offset), p.midi) for e in elements for p in e.pitches)


@pytest.mark.parametrize("tokenization", ["pitch", "timed"])
def test_mozart_plays_validation_stretches_through_the_checkpoints_decoder(piece_ckpts, generate_cfg, tokenization):
    ckpt = piece_ckpts[tokenization]
    [result] = run(generate_cfg(ckpt, "composer=mozart", "n_notes=12", "wav=false"))
    pieces = split_pieces(ckpt)
    tokens = result["tokens"]
    assert len(tokens) == SEQ_LEN + 12  # a seed-long stretch, then the 12 tokens the report judges
    at = position_in(tokens, pieces["val"])
    with pytest.raises(AssertionError):
        position_in(tokens, pieces["test"])  # not from the sonatas of the reference
    # the decoder's onsets: pitch tokens on the fixed 0.5 grid, timed tokens at Mozart's own (quantised) onsets
    offsets = pieces["val"].offsets[at : at + len(tokens)]
    onsets = [0.5 * i for i in range(len(tokens))] if tokenization == "pitch" else [o - offsets[0] for o in offsets]
    expected = Counter((onset, m) for onset, token in zip(onsets, tokens, strict=True) for m in TIMED.pitches(token))
    assert sounded(result["paths"]["midi"]) == expected
    assert result["paths"]["piano_roll"].stat().st_size > 200


def test_mozart_stands_in_the_report_and_the_multirun_table_beside_the_network(piece_ckpts, generate_cfg, tmp_path):
    ckpt = piece_ckpts["timed"]
    options = ["n_notes=12", "num_samples=2", "reference_size=4", *QUIET]
    for composer in ("network", "mozart"):
        run(generate_cfg(ckpt, *options, f"composer={composer}", out_dir=tmp_path / composer))
    reports = [json.loads((tmp_path / composer / REPORT_NAME).read_text()) for composer in ("network", "mozart")]
    mozart = reports[1]
    assert mozart["settings"]["composer"] == "mozart" and len(mozart["samples"]) == 2
    assert 0.0 <= mozart["comparison"]["overlap"] <= 1.0 and mozart["reference"] == reports[0]["reference"]
    rows = comparison_table([MusicReport.from_json(report) for report in reports]).splitlines()
    assert sorted(row.split()[0] for row in rows[1:-1]) == ["composer=mozart", "composer=network"]


def test_mozart_plays_what_fits_and_says_so(piece_ckpts, generate_cfg, caplog):
    with caplog.at_level(logging.INFO, logger="mozart_lstm.composing.composers"):
        results = run(generate_cfg(piece_ckpts["pitch"], "composer=mozart", "n_notes=12", "num_samples=9", *QUIET))
    # the validation piece's 60 tokens hold 3 stretches of 8 + 12, which overlap nothing
    assert len(results) == 3 and len({tuple(r["tokens"]) for r in results}) == 3
    assert "the validation sonatas hold 3 stretches of 20 tokens, not num_samples=9: playing 3" in caplog.text
    with pytest.raises(UserError, match="no validation sonata holds 108 tokens"):
        run(generate_cfg(piece_ckpts["pitch"], "composer=mozart", "n_notes=100", *QUIET))


def test_without_validation_sonatas_mozart_is_one_line(tiny_ckpt, generate_cfg):
    with pytest.raises(UserError, match="composer=mozart: .* had no validation split") as caught:
        run(generate_cfg(tiny_ckpt, "composer=mozart", "n_notes=12", *QUIET))
    assert "data.split_by=piece" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({}, "had no validation split"),  # a checkpoint that does not say: the lab's 2-way window split
        ({"split": [0.8, 0.2], "split_by": "piece"}, "had no validation split"),
        ({"split": [0.8, 0.1, 0.1], "split_by": "window"}, "split by window (data.split_by=window)"),
    ],
)
def test_mozart_needs_whole_validation_sonatas(settings, fragment):
    with pytest.raises(UserError, match=re.escape(fragment)):
        check_mozart_split(settings, "run/last.ckpt")
    check_mozart_split({"split": [0.8, 0.1, 0.1], "split_by": "piece"}, "run/last.ckpt")
