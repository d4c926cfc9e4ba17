"""Write tests/golden/expected.json: what today's generate.py writes for every case of tests/golden/cases.py.

    cd <repo> && OMP_NUM_THREADS=1 python tests/golden/make_golden.py            # rewrite expected.json only
    cd <repo> && OMP_NUM_THREADS=1 python tests/golden/make_golden.py --retrain  # also retrain the checkpoints

tests/test_behaviour_unchanged.py holds the code to these files: the same checkpoint and seed must give a
byte-identical mozart.mid and the same music_report.json figures. Rerun this script ONLY when a change is MEANT
to change what generate.py writes (a new rhythm, a fixed decoding bug, a new report figure), and say why in the
commit that updates expected.json; a refactoring (tokenizers, composing and judging rooms, settings) must leave
the files as they are and the test passing. --retrain rewrites the checkpoints too, so the old ones are no longer
proven to generate: retrain only when today's code can no longer read them, and keep the old ones as a case.

--retrain writes the corpus files that are missing (tests/conftest.py's write_midi, seeds 0-7, and a piece of
sixteenths, triplets and long rests: write_rhythms), trains a pitch and a timed tiny model on it with today's
train.run (whole pieces held out: 5 train, 2 validation, 2 test pieces; the timed run calibrates its sampler and
keeps best.ckpt, which carries it) and commits last.ckpt of the pitch run, best.ckpt of the timed run and the pitch
run's lab-format file of a middle epoch (other weights than last.ckpt's), each with its data paths made relative
to the repository (tests/golden/cases.py relocates them before every run). About a minute on one core.
"""

import argparse
import json
import random
import shutil
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))

from tests.conftest import MELODY, TINY_SIZES, compose_config, torch_threads, train_tiny, write_midi  # noqa: E402
from tests.golden.cases import (  # noqa: E402
    CASES,
    CHECKPOINTS,
    CORPUS,
    EXPECTED,
    RHYTHMS,
    relocated_checkpoint,
    run_case,
    stored_overrides,
)

PIECES = 8
EPOCHS = 20
PIECE_SPLIT = ["data.split=[0.5,0.25,0.25]", "data.split_by=piece", f"trainer.max_epochs={EPOCHS}"]
# without dropout and at 10x the lab's rate, the tiny model learns the corpus's chord-note-note pattern in 20 epochs:
# a network that reads its context, so that a change in how the seed, the primer or the carried state reaches it
# changes the music
LEARNS = ["model.lr=0.01", "model.dropout=0.0"]
CALIBRATED = [
    "callbacks=[default,best_checkpoint,sampler_calibration]",
    "callbacks.sampler_calibration.n_notes=16",
    "callbacks.sampler_calibration.pieces=3",
    "callbacks.sampler_calibration.temperatures=[0.8,1.2]",
    "callbacks.sampler_calibration.top_ps=[0.7,1.0]",
]
# the data paths a committed checkpoint keeps: relative to the repository root
RELATIVE = {"archive": str(CORPUS.relative_to(REPO)), "data_dir": "outputs/data", "cache_dir": "outputs/cache"}


# One piece whose onsets lie on the sixteenth and the triplet grids (music21 quantises a parsed MIDI file to both),
# 9 quarters a bar: its gaps take the timed tokens' quantisation through ties (5/12 between 1/3 and 1/2, 5/4
# between 1 and 3/2, 7/4 between 3/2 and 2: today the shorter) and the cap (3 quarters: 2).
RHYTHM_BAR = [Fraction(v) for v in ("0", "1/4", "2/3", "3/4", "1", "4/3", "3/2", "2", "5/2", "3", "17/4", "6")]
RHYTHM_BAR_LENGTH = Fraction(9)


def write_rhythms(path: Path, seed: int = PIECES, bars: int = 8) -> Path:
    """The piece of RHYTHM_BAR's onsets, each note or chord as long as its gap up to an eighth."""
    from music21 import chord, instrument, note, stream

    rng = random.Random(seed)
    part = stream.Part()
    part.insert(0, instrument.Piano())
    for bar in range(bars):
        onsets = [bar * RHYTHM_BAR_LENGTH + onset for onset in RHYTHM_BAR]
        for onset, after in zip(onsets, [*onsets[1:], (bar + 1) * RHYTHM_BAR_LENGTH], strict=True):
            if rng.random() < 0.3:
                element = chord.Chord([rng.choice(["C3", "F3", "G3"]), rng.choice(["E3", "A3", "B3"])])
            else:
                element = note.Note(rng.choice(MELODY))
            element.quarterLength = min(after - onset, Fraction(1, 2))
            part.insert(onset, element)
    stream.Score([part]).write("midi", fp=str(path))
    return path


def write_corpus() -> None:
    """The corpus files that are missing: PIECES pieces of tests/conftest.py's write_midi, and RHYTHMS."""
    CORPUS.mkdir(exist_ok=True)
    for seed in range(PIECES):
        path = CORPUS / f"piece_{seed}.mid"
        if not path.is_file():
            write_midi(path, seed, n_notes=80, n_chords=40)
    if not RHYTHMS.is_file():
        write_rhythms(RHYTHMS)


def commit_checkpoint(trained: Path, dest: Path) -> None:
    """`trained` as train.py wrote it, its data paths made relative to the repository."""
    import torch

    raw = torch.load(trained, map_location="cpu", weights_only=True)
    raw["data_settings" if "model_state_dict" in raw else "datamodule_hyper_parameters"] |= RELATIVE
    torch.save(raw, dest)
    print(f"{dest.relative_to(REPO)}: {dest.stat().st_size / 1024:.0f} KiB")


def retrain(work: Path) -> None:
    write_corpus()
    runs = {"pitch": [], "timed": ["data.tokenization=timed", *CALIBRATED]}
    for name, overrides in runs.items():
        metrics = train_tiny(work / name, CORPUS, work / "cache", *PIECE_SPLIT, *LEARNS, *overrides)
        print(name, {key: round(value, 3) for key, value in metrics.items() if key.startswith(("val/", "calib"))})
    commit_checkpoint(work / "pitch" / "checkpoints" / "last.ckpt", CHECKPOINTS["pitch"])
    commit_checkpoint(work / "timed" / "checkpoints" / "best.ckpt", CHECKPOINTS["timed"])
    commit_checkpoint(work / "pitch" / "checkpoints" / f"lab_epoch_{EPOCHS // 2:03d}.pt", CHECKPOINTS["lab"])


def write_expected(work: Path) -> None:
    from hydra.core.global_hydra import GlobalHydra

    ckpts = {name: relocated_checkpoint(path, work / "ckpt" / path.name, work) for name, path in CHECKPOINTS.items()}
    cases = {}
    for case_id, (checkpoint, _) in CASES.items():
        with torch_threads(1):
            found = run_case(case_id, ckpts[checkpoint], work / "runs" / case_id, compose_config)
        GlobalHydra.instance().clear()
        cases[case_id] = {"checkpoint": checkpoint, "overrides": stored_overrides(case_id), **found}
        print(case_id, *found["midi"].values())
    expected = {"about": f"written by {Path(__file__).relative_to(REPO)}: read its docstring first", "cases": cases}
    EXPECTED.write_text(json.dumps(expected, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--retrain", action="store_true", help="retrain and rewrite the committed checkpoints too")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="make_golden_"))
    try:
        if args.retrain:
            print("tiny sizes:", " ".join(TINY_SIZES))
            retrain(work / "train")
        write_expected(work / "generate")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {EXPECTED.relative_to(REPO)}: {len(CASES)} cases")


if __name__ == "__main__":
    main()
