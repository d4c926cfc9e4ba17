"""The checkpoint `python generate.py` composes with when none is named: the newest training run's."""

from pathlib import Path

from labtools.errors import UserError

# Relative, like Hydra's run dirs (conf/hydra/default.yaml): train.py writes under the folder it is run from
TRAIN_RUNS = Path("outputs/train")
LAST = "checkpoints/last.ckpt"


def newest_checkpoint(runs: Path = TRAIN_RUNS) -> Path:
    """The most recently written `<runs>/*/checkpoints/last.ckpt`; a UserError saying how to train when none is."""
    found = [path for path in runs.glob(f"*/{LAST}") if path.is_file()]
    if not found:
        raise UserError(
            f"no ckpt= given and no trained run in {runs}/*/{LAST} (relative to the folder you run from): train "
            "one with `make train` (or in a minute: python train.py experiment=smoke), or name a checkpoint with "
            f"ckpt={runs}/<run>/{LAST}"
        )
    return max(found, key=lambda path: path.stat().st_mtime)
