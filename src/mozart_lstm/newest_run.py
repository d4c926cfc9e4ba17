"""The checkpoint `python generate.py` composes with when none is named: the newest training run's."""

from pathlib import Path

from labtools.errors import UserError

# Relative, like Hydra's run dirs (conf/hydra/default.yaml): train.py writes under the folder it is run from
TRAIN_RUNS = Path("outputs/train")
LAST = "checkpoints/last.ckpt"
# the epoch a validation split chose (callbacks.best_checkpoint): what the run's test pass scored and calibrated
BEST = "best.ckpt"


def newest_checkpoint(runs: Path = TRAIN_RUNS) -> Path:
    """The newest run's checkpoint: its `checkpoints/best.ckpt` when it kept one, else its `last.ckpt`; the newest
    run is the one whose `<runs>/*/checkpoints/last.ckpt` was written last. A UserError saying how to train when
    there is none."""
    found = [path for path in runs.glob(f"*/{LAST}") if path.is_file()]
    if not found:
        raise UserError(
            f"no ckpt= given and no trained run in {runs}/*/{LAST} (relative to the folder you run from): train "
            "one with `make train` (or in a minute: python train.py experiment=smoke), or name a checkpoint with "
            f"ckpt={runs}/<run>/{LAST}"
        )
    newest = max(found, key=lambda path: path.stat().st_mtime)
    best = newest.with_name(BEST)
    return best if best.is_file() else newest
