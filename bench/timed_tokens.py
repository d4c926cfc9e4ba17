"""Evidence for timed tokens (docs/timed_tokens.md): two runs of train.py that differ only in
data.tokenization, their pitch and timing accuracy, and the rhythm of the music each composes against Mozart's.

    python bench/timed_tokens.py PITCH_RUN TIMED_RUN [OUT]

PITCH_RUN and TIMED_RUN are train.py run dirs (checkpoints/last.ckpt, train.log). generate.py's own `run` composes
SAMPLES pieces per condition into OUT (default outputs/timed_evidence): MIDI and piano rolls as usual, plus a
small piano roll of each condition's first sample (timed_<run>_<offset>.png) and an IOI chart (timed_ioi.png).
The rhythm of their generated parts (the seed windows left out) is compared with the whole corpus's, as the
overlapped area (the sum over bins of the smaller share) of three histograms of onsets (tokens starting together
are one onset):
- IOI: the inter-onset interval, in the bins of the timed tokens' gaps (2 holds everything from 2 up);
- IOI pairs: two consecutive IOIs, i.e. rhythmic figures;
- phase: where an onset falls within a quarter note, in twelfths, counted from the stretch's first onset.
"""

import json
import re
import sys
from collections import Counter
from itertools import pairwise
from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_dir
from matplotlib.figure import Figure

from mozart_lstm.composing.piano_roll import plot_piano_roll
from mozart_lstm.data import MidiDataModule, load_pieces
from mozart_lstm.generate import build_options
from mozart_lstm.generate import run as generate
from mozart_lstm.models.checkpoint import read_checkpoint
from mozart_lstm.tokenizers.timed import GAP_LABELS, gap_label

REPO = Path(__file__).resolve().parents[1]
SAMPLES, N_NOTES, ROLL_NOTES = 8, 300, 120
GENERATE = [f"num_samples={SAMPLES}", f"n_notes={N_NOTES}", "sampler=temperature", "sampler.top_p=0.95", "wav=false"]
# (label, which run, offset option); the timed run with empirical gaps would repeat the pitch-only run's timing
# exactly (same seeds, same corpus distribution)
CONDITIONS = [
    ("pitch-only, fixed 0.5", "pitch", "fixed"),
    ("pitch-only, empirical gaps", "pitch", "empirical"),
    ("timed, learned", "timed", "learned"),
]
CHARTED = ("pitch-only, empirical gaps", "timed, learned")  # beside Mozart's in timed_ioi.png


def histograms(onset_runs) -> dict[str, Counter]:
    """IOI, IOI-pair and phase counts over stretches of onsets (each an array of token offsets)."""
    counts = {"ioi": Counter(), "ioi_pairs": Counter(), "phase": Counter()}
    for offsets in onset_runs:
        distinct = np.unique(np.round(np.asarray(offsets, dtype=float), 6))
        iois = [gap_label(g) for g in np.diff(distinct)]
        counts["ioi"].update(iois)
        counts["ioi_pairs"].update(pairwise(iois))
        counts["phase"].update(np.round((distinct - distinct[0]) % 1 * 12).astype(int) % 12)
    return counts


def ioi_shares(counts: Counter) -> dict[str, float]:
    total = sum(counts.values())
    return {gap: counts[gap] / total for gap in GAP_LABELS[1:]}  # distinct onsets: never a gap of 0


def save_ioi_chart(path: Path, shares: dict[str, dict[str, float]]) -> None:
    figure = Figure(figsize=(9, 2.8), layout="constrained")
    axes = figure.add_subplot()
    width = 0.8 / len(shares)
    for i, (label, values) in enumerate(shares.items()):
        axes.bar(np.arange(len(values)) + i * width, list(values.values()), width, label=label)
    axes.set_xticks(np.arange(len(GAP_LABELS) - 1) + 0.4 - width / 2, GAP_LABELS[1:])
    axes.set_xlabel("inter-onset interval (quarter notes; 2: 2 or more)")
    axes.set_ylabel("share of onsets")
    axes.legend(fontsize="small", frameon=False)
    figure.savefig(path, format="png", dpi=64)


def overlap(a: Counter, b: Counter) -> float:
    total_a, total_b = sum(a.values()), sum(b.values())
    return sum(min(a[key] / total_a, b[key] / total_b) for key in set(a) | set(b))


def final_metrics(run: Path) -> dict[str, float]:
    line = [text for text in (run / "train.log").read_text().splitlines() if "Final metrics:" in text][-1]
    return {key: float(value) for key, value in re.findall(r"([\w/]+)=([-\d.e]+)", line.split("Final metrics:")[1])}


def corpus_stretches(settings: dict) -> list[np.ndarray]:
    """The corpus's offsets (read from the token cache) in stretches as long as a generated part."""
    keys = ("cache_dir", "data_dir", "max_files", "sha256")
    return [
        np.asarray(piece.offsets[start : start + N_NOTES])
        for piece in load_pieces(settings["archive"], **{key: settings[key] for key in keys})
        for start in range(0, len(piece.offsets) - N_NOTES + 1, N_NOTES)
    ]


def timing_baselines(datamodule) -> dict[str, float]:
    """Timing accuracy a pitch-only model gets from its rhythm options, on the timed test split's labels."""
    timing = datamodule.tokenizer.parts(datamodule.vocab.tokens)["timing"]  # each token's index in GAP_LABELS
    gaps_of = lambda ids: [GAP_LABELS[timing[i]] for i in ids.tolist()]  # noqa: E731
    test = Counter(gaps_of(datamodule.test_set.ids[datamodule.test_set.starts + datamodule.test_set.seq_len]))
    train = Counter(gaps_of(datamodule.train_set.ids[datamodule.train_set.starts + datamodule.train_set.seq_len]))
    n_test, n_train = sum(test.values()), sum(train.values())
    return {
        "fixed 0.5 (always 1/2)": test["1/2"] / n_test,
        "most frequent gap": max(test.values()) / n_test,
        "empirical draw (expected)": sum(train[g] / n_train * test[g] / n_test for g in GAP_LABELS),
    }


def compose_pieces(ckpt: Path, offset: str, out: Path) -> tuple[list[np.ndarray], list]:
    """generate.py's run; each sample's generated onsets, and sample 0's events (seed included)."""
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("generate", [f"ckpt={ckpt}", f"paths.output_dir={out}", f"rhythm.offset={offset}", *GENERATE])
    checkpoint = read_checkpoint(ckpt)
    corpus, tokenizer = checkpoint.rhythm, checkpoint.tokenizer
    _, rhythm = build_options(cfg)
    onsets, first_events = [], None
    for k, result in enumerate(generate(cfg)):
        tokens = result["tokens"]
        # the timing generate.run used: same options, same seed
        timing = tokenizer.timing(tokens, rhythm, corpus, cfg.seed + k)
        n_seed = len(tokens) - N_NOTES
        onsets.append(timing.offsets[n_seed:])
        if k == 0:
            first_events = tokenizer.events(tokens, timing)[: n_seed + ROLL_NOTES]
    return onsets, first_events


def save_roll(path: Path, events, n_seed: int, title: str) -> None:
    figure = plot_piano_roll(events, n_seed, title)
    figure.set_size_inches(9, 2.8)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=64)


def main(pitch_run: Path, timed_run: Path, out: Path) -> dict:
    runs = {"pitch": pitch_run, "timed": timed_run}
    settings = read_checkpoint(timed_run / "checkpoints" / "last.ckpt").data_settings
    timed_data = MidiDataModule(**settings)
    timed_data.setup()
    mozart = histograms(corpus_stretches(settings))
    report = {"metrics": {name: final_metrics(run) for name, run in runs.items()}}
    report["timing_baselines"] = timing_baselines(timed_data)
    report["rhythm"] = {}
    for label, run, offset in CONDITIONS:
        slug = f"{run}_{offset}"
        onsets, events = compose_pieces(runs[run] / "checkpoints" / "last.ckpt", offset, out / slug)
        counts = histograms(onsets)
        report["rhythm"][label] = {name: overlap(counts[name], mozart[name]) for name in mozart}
        report["rhythm"][label]["ioi_shares"] = ioi_shares(counts["ioi"])
        n_seed = len(events) - ROLL_NOTES
        save_roll(out / f"timed_{slug}.png", events, n_seed, f"{label}: seed + {ROLL_NOTES} notes")
    report["rhythm"]["Mozart"] = {"ioi_shares": ioi_shares(mozart["ioi"])}
    chart = {label: report["rhythm"][label]["ioi_shares"] for label in ("Mozart", *CHARTED)}
    save_ioi_chart(out / "timed_ioi.png", chart)
    (out / "results.json").write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    destination = Path(sys.argv[3] if len(sys.argv) == 4 else "outputs/timed_evidence").resolve()
    print(json.dumps(main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve(), destination), indent=2))
