"""The composed training config's settings, for tests that build the model, network or data module directly: conf/
is the one home of their defaults, and the constructors take every setting.

    MozartLitModule(vocab, **model_settings(hidden_size=16))
    NetworkConfig(vocab_size, **network_settings(hidden_size=16))
    MidiDataModule(**data_settings(archive=str(folder), seq_len=8))

The config is composed once, when this module is first imported (at collection, before any test holds Hydra's
global state), with nothing overridden.
"""

import copy
from dataclasses import fields
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from mozart_lstm.models.network import NetworkConfig

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"


def _composed() -> tuple[dict, dict]:
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="train")
    finally:
        GlobalHydra.instance().clear()
    model, data = (OmegaConf.to_container(cfg[group], resolve=True) for group in ("model", "data"))
    del model["_target_"], data["_target_"]
    return model, data


MODEL, DATA = _composed()
NETWORK_KEYS = {field.name for field in fields(NetworkConfig)} - {"vocab_size"}


def model_settings(**changes) -> dict:
    """conf/model's settings (MozartLitModule's keyword arguments), with `changes`."""
    return _copy(MODEL, changes)


def network_settings(**changes) -> dict:
    """conf/model's network settings (NetworkConfig's fields but vocab_size), with `changes`."""
    return _copy({key: value for key, value in MODEL.items() if key in NETWORK_KEYS}, changes)


def data_settings(**changes) -> dict:
    """conf/data's settings (MidiDataModule's keyword arguments; archive null: the lab's download), with `changes`."""
    return _copy(DATA, changes)


def _copy(settings: dict, changes: dict) -> dict:
    unknown = changes.keys() - settings.keys()
    assert not unknown, f"not a setting: {sorted(unknown)}"
    return copy.deepcopy(settings) | changes
