"""The one shim for settings of before (mozart_lstm.legacy): old checkpoints' missing keys, generate.py's moved keys."""

import pytest
import torch
import yaml

from labtools.errors import UserError
from mozart_lstm import legacy
from mozart_lstm.data import MidiDataModule
from mozart_lstm.models import NetworkConfig, read_checkpoint
from tests.conftest import CONF_DIR
from tests.defaults import model_settings


def test_the_declared_flat_keys_are_the_moved_ones():
    """conf/legacy/generate.yaml declares exactly the keys the shim knows a new spelling of, all null."""
    declared = yaml.safe_load((CONF_DIR / "legacy" / "generate.yaml").read_text())
    assert declared == dict.fromkeys(legacy.MOVED)
    main = yaml.safe_load((CONF_DIR / "generate.yaml").read_text())
    assert not legacy.MOVED.keys() & main.keys()  # not in generate.yaml's own body


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"temperature": 0.8}, "temperature= has moved: use sampler.temperature=0.8"), ({"sampling": None}, None)],
)
def test_a_moved_key_is_one_line_naming_its_new_spelling(overrides, message):
    cfg = dict.fromkeys(legacy.MOVED) | overrides
    if message is None:
        legacy.check_moved(cfg)
        return
    with pytest.raises(UserError, match=f"^{message}$"):
        legacy.check_moved(cfg)


def test_an_old_checkpoints_model_settings_get_the_values_of_before():
    filled = legacy.model_settings({"hidden_size": 16, "optim": None, "vocab": ["A"]})
    assert filled["hidden_size"] == 16 and filled["vocab"] == ["A"]
    assert filled["optim"] == {"name": "rmsprop", "weight_decay": 0.0} and filled["head_batchnorm"] is True
    assert NetworkConfig.from_settings(3, filled) == NetworkConfig.from_settings(3, legacy.MODEL_BEFORE | filled)
    # what a new checkpoint holds is kept as it is
    assert legacy.model_settings(model_settings()) == model_settings()


def test_an_old_checkpoints_data_settings_rebuild_its_data(tiny_ckpt, tmp_path):
    raw = torch.load(tiny_ckpt, weights_only=True)
    saved = raw["datamodule_hyper_parameters"]
    for key in legacy.DATA_BEFORE:
        del saved[key]
    torch.save(raw, tmp_path / "old.ckpt")
    old = read_checkpoint(tmp_path / "old.ckpt")
    assert old.data_settings == saved | legacy.DATA_BEFORE
    MidiDataModule(**old.data_settings)  # every setting there: the data module takes them without a default
    assert legacy.data_settings({}) == {}  # a file without data settings: generate.py says it cannot rebuild them
