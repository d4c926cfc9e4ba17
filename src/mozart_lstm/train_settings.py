"""The training run's numeric settings, checked before anything is read or built: the top level, trainer.*,
data.num_parse_workers, the callbacks' numbers, whether the network fits in memory, whether a GPU asked for is
there, and that every real number fits float32, the precision training computes in.

The data and model groups check the rest in their constructors. Integer settings take integers only: 5.0 is
refused with a message rather than silently truncated, because for Lightning's limit_*_batches 1.0 (all of an
epoch) and 1 (one batch) mean different things.
"""

import math

from omegaconf import DictConfig, ListConfig, OmegaConf
from pytorch_lightning.accelerators import CUDAAccelerator, MPSAccelerator

from labtools.checks import FLOAT32_MAX, MAX_SEED, fits_float32, is_number, is_seed, is_whole
from labtools.errors import UserError
from labtools.memory import available_bytes, format_bytes
from mozart_lstm.models.network import NetworkConfig


def _optional_whole(value) -> bool:
    return value is None or is_whole(value)


def _keep(value) -> bool:
    return is_whole(value) or (value == -1 and isinstance(value, int) and not isinstance(value, bool))


def _devices(value) -> bool:
    return not is_number(value) or is_whole(value)  # "auto" and lists are Lightning's to check


def _clip(value) -> bool:
    return value is None or is_number(value) and math.isfinite(value) and value >= 0


def _fraction(value) -> bool:
    return is_number(value) and 0 <= value <= 1


def _count(value) -> bool:
    return is_whole(value, minimum=0)


def _finite(value) -> bool:
    return is_number(value) and math.isfinite(value)


def _limit(value) -> bool:
    """A fraction of the batches (a float in (0, 1]) or a number of them (an int >= 1)."""
    if isinstance(value, float):
        return 0 < value <= 1
    return is_whole(value)


RULES = {
    "seed": (is_seed, f"a whole number in [0, {MAX_SEED}]"),
    "torch_threads": (_optional_whole, "null or a whole number >= 1"),
    "keep_last_checkpoints": (_keep, "-1 (keep every epoch's) or a whole number >= 1"),
    "trainer.max_epochs": (is_whole, "a whole number >= 1"),
    "trainer.num_nodes": (is_whole, "a whole number >= 1"),
    "trainer.devices": (_devices, "a whole number >= 1, a list of device ids or auto"),
    "trainer.gradient_clip_val": (_clip, "null or a finite number >= 0 (0 turns clipping off)"),
    "trainer.check_val_every_n_epoch": (is_whole, "a whole number >= 1"),
    "trainer.log_every_n_steps": (is_whole, "a whole number >= 1"),
    "trainer.limit_train_batches": (_limit, "a fraction in (0, 1] like 0.5, or a whole number of batches >= 1"),
    "trainer.limit_val_batches": (_limit, "a fraction in (0, 1] like 0.5, or a whole number of batches >= 1"),
    "data.num_parse_workers": (_optional_whole, "null (one per CPU core) or a whole number >= 1"),
    # callbacks whose classes leave their numbers unchecked
    "callbacks.curves.accuracy_goal": (_fraction, "a number in [0, 1]"),
    "callbacks.baselines.ngram_order": (
        _optional_whole,
        "null (chosen on the validation split) or a whole number >= 1",
    ),
    "callbacks.baselines.max_order": (is_whole, "a whole number >= 1"),
    "callbacks.throughput.skip_batches": (_count, "a whole number >= 0"),
    "callbacks.early_stopping.patience": (_count, "a whole number >= 0"),
    "callbacks.early_stopping.min_delta": (_finite, "a finite number"),
    "callbacks.audio_samples.every_n_epochs": (is_whole, "a whole number >= 1"),
}
ABSENT = object()
# Training holds each float32 weight about four times: the weight, its gradient, RMSprop's square average, and
# as much again for activations and temporaries. A floor: the vocabulary-sized layers are unknown before the data.
BYTES_PER_WEIGHT = 16


def check_model_fits(network: NetworkConfig) -> None:
    """Refuse a network that cannot fit in the memory free now; checked after the model's own settings."""
    needed = BYTES_PER_WEIGHT * network.weights_without_vocab()
    free = available_bytes()
    if free is not None and needed > free:
        n = network
        sizes = f"embedding_dim={n.embedding_dim}, hidden_size={n.hidden_size}, num_layers={n.num_layers}"
        raise UserError(
            f"model ({sizes}): training it needs about {format_bytes(needed)} (weights, gradients, optimizer "
            f"state), more than the {format_bytes(free)} free here; use a smaller model.hidden_size"
        )


# trainer.accelerator names that need a GPU, and the Lightning accelerators that can serve each ("gpu": either)
GPU_ACCELERATORS = {"cuda": (CUDAAccelerator,), "mps": (MPSAccelerator,), "gpu": (CUDAAccelerator, MPSAccelerator)}


def check_accelerator(accelerator) -> None:
    """Refuse a GPU accelerator where none is visible, in words, before Lightning's "No supported gpu backend".
    Lightning's own availability tests decide, so the refusal agrees with what the Trainer would find."""
    kinds = GPU_ACCELERATORS.get(accelerator, ())
    if kinds and not any(kind.is_available() for kind in kinds):
        raise UserError(
            f"trainer.accelerator={accelerator}: no such GPU is visible here; train on the CPU with trainer=cpu "
            "(experiment=recipe is the CPU recipe)"
        )


def check_train_settings(cfg: DictConfig) -> None:
    """One UserError naming the first bad key, its value and what it must be; absent keys (a callback switched
    off, say) are skipped."""
    for key, (valid, rule) in RULES.items():
        value = OmegaConf.select(cfg, key, default=ABSENT)
        if value is ABSENT:
            continue
        if isinstance(value, ListConfig):
            value = OmegaConf.to_container(value)
        if not valid(value):
            hint = " (integers are written without a point)" if isinstance(value, float) and value.is_integer() else ""
            raise UserError(f"{key}={value!r}: must be {rule}{hint}")
    check_accelerator(OmegaConf.select(cfg, "trainer.accelerator"))


def _floats(node, key: str):
    """(dotted key, value) of every float in a plain container, list items as key[i]."""
    if isinstance(node, float):
        yield key, node
    elif isinstance(node, dict):
        for name, item in node.items():
            yield from _floats(item, f"{key}.{name}" if key else str(name))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _floats(item, f"{key}[{i}]")


def check_float32_range(cfg: DictConfig) -> None:
    """Refuse any finite float setting beyond float32's range, whichever key holds it. Called after every
    setting's own check, whose message says more (an integer setting written as 1e300, say); nan and inf are
    those checks' to refuse."""
    settings = OmegaConf.to_container(cfg, resolve=False)
    settings.pop("hydra", None)
    for key, value in _floats(settings, ""):
        if math.isfinite(value) and not fits_float32(value):
            raise UserError(
                f"{key}={value!r}: beyond float32's range (at most {FLOAT32_MAX:.1e} in size), the precision "
                "training computes in; use a smaller value"
            )
