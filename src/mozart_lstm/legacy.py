"""Settings of before, in one place. Every setting a user gives has one home, conf/, whose YAML holds its default;
the constructors take their settings without defaults. Two things of the past still need a Python value:

- A checkpoint written before a setting existed does not hold it: it was trained with the behaviour the code had
  before the key, given here (`model_settings`, `data_settings`). These are the code's values of then, not today's
  defaults: they never change, whatever conf/ comes to say.
- generate.py's flat keys of before (sampling=, temperature=, offset=, ...): conf/legacy/generate.yaml declares
  them (Hydra refuses an undeclared key with its own message), and `check_moved` turns a use into one line naming
  the new spelling.

It imports nothing heavy: generate.py checks the moved keys before its slow imports.
"""

from labtools.errors import UserError

# The model's hyper-parameters a checkpoint may lack. A lab-format file written before NetworkConfig holds only the
# keys its network was built with (the rest were the lab's network); the later keys were off before they existed.
MODEL_BEFORE = {
    "embedding_dim": 32,
    "hidden_size": 512,
    "num_layers": 3,
    "dropout": 0.3,
    "linear_sizes": [256],
    "embedding_dropout": 0.0,
    "weight_drop": 0.0,
    "head_batchnorm": True,
    "lr": 1e-3,
    "optim": {"name": "rmsprop", "weight_decay": 0.0},  # None in a file: the lab's RMSprop too
}
# MidiDataModule's settings added after the first checkpoints, as the data was built before them
DATA_BEFORE = {
    "train_targets": "last",
    "train_spacing": 1,
    "eval_windows": None,
    "transpose": 0,
    "tokenization": "pitch",
    "chord_order": "music21",
}

# generate.py's flat keys of before and their new spelling
MOVED = {"sampling": "sampler"} | {
    key: f"{group}.{key}"
    for group, keys in [
        ("sampler", ("temperature", "top_k", "top_p", "repetition_penalty")),
        ("rhythm", ("offset", "offset_step", "duration", "duration_value")),
    ]
    for key in keys
}


def model_settings(saved: dict) -> dict:
    """A checkpoint's model hyper-parameters with every key of MODEL_BEFORE, those it lacks at their old value."""
    filled = {key: value for key, value in MODEL_BEFORE.items() if saved.get(key) is None}
    return dict(saved) | filled


def data_settings(saved: dict) -> dict:
    """A checkpoint's data settings with every key of DATA_BEFORE. Empty stays empty: a file without data settings
    cannot rebuild its data, and generate.py says so."""
    if not saved:
        return {}
    return DATA_BEFORE | dict(saved)


def check_moved(cfg) -> None:
    """One line naming the new spelling of a flat generate.py key of before, when one is set."""
    for old, new in MOVED.items():
        if cfg.get(old) is not None:
            from mozart_lstm.judging.sweep import as_override

            raise UserError(f"{old}= has moved: use {new}={as_override(cfg[old])}")
