"""Random generator states inside checkpoints, so a resumed run draws what an uninterrupted one would."""

import random

import numpy as np
import torch
from pytorch_lightning.callbacks import Callback


class RandomStateCheckpoint(Callback):
    """Saves the torch, CUDA, numpy and Python generator states with every checkpoint and restores them on resume.

    The training loader's shuffle and the dropout masks come from torch's global generator, which
    `seed_everything` resets at start. Without this, epoch N+1 after a resume would shuffle like epoch 1.
    Lightning saves checkpoints after the epoch's last draw and restores them before the next epoch's first,
    so on one CPU process the resumed run is bitwise the uninterrupted one. Under DDP every rank gets rank 0's state.
    """

    def state_dict(self) -> dict:
        numpy_state = np.random.get_state()
        return {
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            # plain values, so the checkpoint still loads with torch.load(weights_only=True)
            "numpy": [numpy_state[0], numpy_state[1].tolist(), *numpy_state[2:]],
            "python": random.getstate(),
        }

    def load_state_dict(self, state_dict: dict) -> None:
        torch.set_rng_state(state_dict["torch"])
        if state_dict["cuda"] and len(state_dict["cuda"]) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(state_dict["cuda"])
        name, keys, *rest = state_dict["numpy"]
        np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))
        version, internal, gauss = state_dict["python"]
        random.setstate((version, tuple(internal), gauss))
