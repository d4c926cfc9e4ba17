"""The judge's table of docs/judging_music.md, for one checkpoint: every composer and the controls, each with the
classifier two-sample test, the overlap and the structure, all with their spreads.

    python bench/judge_table.py CKPT OUT [generate.py overrides for the network's row ...]

Each composer's row is one `generate.py` run (num_samples=1, judge_pieces=16, n_notes=500, seed 0, stateful;
no WAV or piano roll) into OUT/<row>/, whose music_report.json it reads: the network with its calibrated sampler (or
the overrides given), the network with argmax, the n-gram (temperature 1, top-p 1) and, where generate.py
has it, composer=mozart. A row generate.py refuses shows its one-line reason. The controls are judged here,
on the same reference (the test sonatas' stretches): the validation sonatas' stretches, and the same with
each stretch's pitches shuffled among its notes. The network's row is also run with judge_pieces=0, so
the table says what the judge costs. OUT/judge_table.md holds the table.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# stateful: one LSTM step a token (the lab's window loop costs a hundred), as the calibrated sampler composes
COMMON = ["num_samples=1", "judge_pieces=16", "n_notes=500", "seed=0", "mode=stateful", "wav=false", "piano_roll=false"]
COMPOSERS = {
    "network": [],
    "network, argmax": ["sampler=argmax"],
    "n-gram": ["composer=ngram", "sampler=temperature", "sampler.temperature=1.0", "sampler.top_p=1.0"],
    "composer=mozart": ["composer=mozart"],
}


def generate(ckpt: str, folder: Path, overrides: list[str]) -> tuple[dict | None, str, float]:
    """(the run's report or None, its last line of error, seconds)."""
    command = [sys.executable, "generate.py", f"ckpt={ckpt}", *COMMON, f"hydra.run.dir={folder}", *overrides]
    started = time.perf_counter()
    # one thread: on a shared CPU, torch's OpenMP threads spin against the other processes
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=os.environ | {"OMP_NUM_THREADS": "1"})
    seconds = time.perf_counter() - started
    report = folder / "music_report.json"
    if done.returncode or not report.is_file():
        return None, (done.stderr.strip().splitlines() or ["failed"])[-1], seconds
    from mozart_lstm.judging.report import read_report

    return read_report(report), "", seconds


def shuffled(stretch, rng):
    from mozart_lstm.judging.reference import Stretch
    from mozart_lstm.notes import NoteEvent

    pitches = [stretch.events[i].pitches for i in rng.permutation(len(stretch.events))]
    events = [NoteEvent(e.offset, e.duration, p) for e, p in zip(stretch.events, pitches, strict=True)]
    return Stretch(stretch.piece, events)


def controls(ckpt_path: str) -> dict[str, dict]:
    """Mozart's validation stretches, and pitch-shuffled ones, judged against the test stretches."""
    from mozart_lstm.composing.held_out import mozart_stretches, training_grams
    from mozart_lstm.generate import rebuild_data
    from mozart_lstm.judging.judge import judge_stretches
    from mozart_lstm.models import read_checkpoint

    ckpt = read_checkpoint(ckpt_path)
    datamodule = rebuild_data(ckpt)
    grams = training_grams(datamodule)
    test, val = (mozart_stretches(datamodule, 500, 32, split) for split in ("test", "val"))
    rng = np.random.default_rng(0)
    settings = {"n_notes": 500}
    return {
        "control: Mozart (val sonatas) against Mozart (test sonatas)": judge_stretches(val, test, grams, settings),
        "control: pitch-shuffled Mozart (val)": judge_stretches([shuffled(s, rng) for s in val], test, grams, settings),
    }


def needs(pieces: int | None) -> str:
    """None: Mozart's side alone spreads more than 0.02, so no number of generated pieces brings it below."""
    return "no number suffices: Mozart's side spreads more" if pieces is None else f"needs {pieces}"


def folder(name: str) -> str:
    """A run folder's name: Hydra reads '=' in hydra.run.dir= as another override."""
    return name.replace(" ", "_").replace(",", "").replace("=", "_")


def cells(report, why: str) -> list[str]:
    """A row's cells from a `MusicReport`, or `why` there is none."""
    if report is None:
        return [why, "", "", ""]
    test = report.two_sample
    told = test["why"] or f"{report.told_apart:.3f} ± {report.told_apart_spread:.3f} ({needs(test['pieces_needed'])})"
    figures = report.overlap_bootstrap["overlap"]
    overlap = f"{report.overlap:.3f} ± {report.overlap_spread:.3f} ({needs(figures['pieces_needed'])})"
    mine = np.mean([s["structure"] for s in report.samples if s["structure"] is not None])
    mozart = report.reference_stats["structure"]["mean"]
    structure = f"{mine:.3f} (Mozart {mozart:.3f}), OA {report.comparison['features']['structure']['overlap']:.3f}"
    return [told, overlap, structure, ", ".join(test.get("telling", []))]


def main(ckpt: str, out: str, *network_overrides: str) -> None:
    out_dir = Path(out).resolve()
    rows, seconds = [], {}
    for name, overrides in COMPOSERS.items():
        report, why, seconds[name] = generate(ckpt, out_dir / folder(name),
                                              overrides or list(network_overrides))  # fmt: skip
        rows.append([name, *cells(report, why)])
        print(f"{name}: {seconds[name]:.0f} s", flush=True)
    _, _, bare = generate(ckpt, out_dir / "network_unjudged", [*network_overrides, "judge_pieces=0"])
    for name, report in controls(ckpt).items():
        rows.append([name, *cells(report, "")])
    header = "| music | told apart (C2ST) ± spread | overlap ± spread | structure | the classifier leans on |"
    lines = [f"checkpoint {ckpt}; 16 pieces of 500 tokens; 'needs': pieces for a spread below 0.02", "", header]
    lines += ["|---|---|---|---|---|", *("| " + " | ".join(row) + " |" for row in rows)]
    cost = f"generate.py: {seconds['network']:.0f} s with the judge, {bare:.0f} s with judge_pieces=0 (as before it)"
    lines += ["", cost]
    (out_dir / "judge_table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main(*sys.argv[1:])
