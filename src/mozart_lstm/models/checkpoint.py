"""Checkpoints of both kinds, Lightning's .ckpt and the lab's own dict, read into one structure.

Everything here loads with `torch.load(weights_only=True)`: both kinds hold only tensors and plain values
(the train script instantiates the model and the data module with `_convert_="all"`, so no OmegaConf object
reaches a checkpoint).
"""

from dataclasses import dataclass
from pathlib import Path

import torch
from lightning_fabric.utilities.apply_func import move_data_to_device
from pytorch_lightning.plugins.io import TorchCheckpointIO
from torch import nn

from labtools.errors import UserError
from labtools.fileio import atomic_path
from mozart_lstm import legacy
from mozart_lstm.models.network import MozartLSTM, NetworkConfig
from mozart_lstm.models.optimization import OptimizerConfig
from mozart_lstm.tokenizers import MusicTokenizer, build_tokenizer

NETWORK_PREFIX = "net."  # MozartLitModule keeps the network in `self.net`
# where callbacks/sampler_calibration.py writes the sampler it calibrated into a Lightning checkpoint
CALIBRATION_KEY = "sampler_calibration"


@dataclass(frozen=True)
class CheckpointData:
    """What a checkpoint of either kind says about the model, the data it was trained on and the epoch."""

    path: Path
    kind: str  # "lightning" or "lab"
    epoch: int  # 0-based, as Lightning counts; the checkpoint was written at the end of this epoch
    network: NetworkConfig  # read from the flat hyperparameters; vocab_size is len(vocab)
    state_dict: dict  # MozartLSTM weights
    vocab: list[str]
    lr: float
    optimizer: OptimizerConfig  # the lab's RMSprop when the file does not say
    optimizer_state: dict | None  # the optimizer's state_dict, None when the file has none
    # MidiDataModule keyword arguments, those added since the file was written at their old values (legacy.py);
    # {} when the file does not say
    data_settings: dict
    rhythm: dict | None  # the corpus's offset-gap and duration distributions, None when the file does not say
    # the sampler calibrated on the validation split at the end of training (callbacks/sampler_calibration.py)
    calibration: dict | None = None

    @property
    def tokenizer(self) -> MusicTokenizer:
        """The tokenization the model was trained on, named by its data settings (the lab's pitch tokens for a
        file without them, legacy.py)."""
        settings = self.data_settings or legacy.DATA_BEFORE
        return build_tokenizer(settings["tokenization"], settings["chord_order"])

    def build_network(self) -> MozartLSTM:
        """The trained network, in eval() mode on the CPU. Raises UserError when the weights do not fit."""
        model = MozartLSTM(self.network)
        try:
            model.load_state_dict(self.state_dict)
        except RuntimeError as err:
            raise UserError(f"{self.path}: weights do not fit its hyperparameters ({_first_line(err)})") from err
        return model.eval()


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's writer stages the file in the system temp dir and moves it, which is a copy, not an
    atomic rename, when that dir is on another filesystem. This one writes beside the target and renames."""

    def save_checkpoint(self, checkpoint, path, storage_options=None):
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        with atomic_path(path) as tmp:
            torch.save(checkpoint, tmp)


def save_lab_checkpoint(path, *, epoch, module, optimizer, loss, data_settings, rhythm) -> Path:
    """The lab's dict, plus what a later `load_model` or generation run needs to rebuild the data.

    "hparams" are the module's, the network's settings among them (NetworkConfig.settings(): plain values).
    The tensors are saved as CPU copies, so that the lab's own `torch.load(path)`, which has no map_location,
    reads a file written on a GPU on a machine without one."""
    hparams = {key: value for key, value in module.hparams.items() if key != "vocab"}
    cpu = torch.device("cpu")
    contents = {
        "epoch": epoch,
        "model_state_dict": move_data_to_device(module.net.state_dict(), cpu),
        "optimizer_state_dict": move_data_to_device(optimizer.state_dict(), cpu),
        "loss": loss,
        "vocab": list(module.vocab),
        "hparams": hparams,
        "data_settings": data_settings,
        "rhythm": rhythm,
    }
    with atomic_path(path) as tmp:
        torch.save(contents, tmp)
    return Path(path)


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0] if text else ''}"


def _load_raw(path: Path) -> dict:
    if not path.is_file():
        raise UserError(f"{path}: no such checkpoint file (e.g. outputs/train/<run>/checkpoints/last.ckpt)")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises RuntimeError, UnpicklingError, EOFError... for bad files
        raise UserError(f"{path}: not a readable checkpoint ({_first_line(err)})") from err
    if not isinstance(raw, dict):
        raise UserError(f"{path}: not a mozart-lstm checkpoint (it holds a {type(raw).__name__}, not a dict)")
    return raw


def _datamodule_state(raw: dict) -> dict:
    # Lightning stores LightningDataModule.state_dict() under the data module's class name
    from mozart_lstm.data import MidiDataModule

    return raw.get(MidiDataModule.__qualname__) or {}


def _from_lightning(path: Path, raw: dict) -> CheckpointData:
    hp = legacy.model_settings(raw["hyper_parameters"])
    vocab = list(hp["vocab"])
    prefix = len(NETWORK_PREFIX)
    weights = {key[prefix:]: val for key, val in raw["state_dict"].items() if key.startswith(NETWORK_PREFIX)}
    optimizers = raw.get("optimizer_states") or [None]
    return CheckpointData(
        path=path,
        kind="lightning",
        epoch=raw["epoch"],
        network=NetworkConfig.from_settings(len(vocab), hp),
        state_dict=weights,
        vocab=vocab,
        lr=hp["lr"],
        optimizer=OptimizerConfig(**hp["optim"]),
        optimizer_state=optimizers[0],
        data_settings=legacy.data_settings(raw.get("datamodule_hyper_parameters") or {}),
        rhythm=_datamodule_state(raw).get("rhythm"),
        calibration=raw.get(CALIBRATION_KEY),
    )


def _from_lab(path: Path, raw: dict) -> CheckpointData:
    hp = legacy.model_settings(raw.get("hparams") or {})
    vocab = list(raw["vocab"])
    return CheckpointData(
        path=path,
        kind="lab",
        epoch=raw["epoch"],
        network=NetworkConfig.from_settings(len(vocab), hp),
        state_dict=raw["model_state_dict"],
        vocab=vocab,
        lr=hp["lr"],
        optimizer=OptimizerConfig(**hp["optim"]),
        optimizer_state=raw.get("optimizer_state_dict"),
        data_settings=legacy.data_settings(raw.get("data_settings") or {}),
        rhythm=raw.get("rhythm"),
    )


def read_checkpoint(path) -> CheckpointData:
    """Read a Lightning .ckpt or a lab-format file of this project. Raises UserError naming the path."""
    path = Path(path)
    raw = _load_raw(path)
    try:
        if "model_state_dict" in raw:
            data = _from_lab(path, raw)
        elif "state_dict" in raw and "hyper_parameters" in raw:
            data = _from_lightning(path, raw)
        else:
            raise KeyError("state_dict")
    except KeyError as err:
        raise UserError(f"{path}: not a mozart-lstm checkpoint (missing {err})") from err
    except UserError as err:  # impossible network settings
        raise UserError(f"{path}: {err}") from err
    embedding = data.state_dict.get("embedding.weight")
    if embedding is None or embedding.shape[0] != len(data.vocab):
        rows = None if embedding is None else embedding.shape[0]
        tokens = len(data.vocab)
        raise UserError(f"{path}: incompatible checkpoint: {tokens} vocabulary tokens but weights for {rows}")
    return data


def load_model(path):
    """The lab's helper: `(model, criterion, optimizer)` from either checkpoint kind.

    `model` is a MozartLSTM in eval() mode on the CPU; `criterion` is NLLLoss; `optimizer` is the one trained
    with (the lab's RMSprop unless model.optim said otherwise), its state restored when the file holds one. For
    notebooks, `model` also carries `.vocab` (list of tokens, index = class id), `.data_settings` (MidiDataModule
    keyword arguments) and `.rhythm`; nothing in this
    project reads them back: it takes them from `read_checkpoint(path)`, whose `build_network()` gives the model.
    """
    ckpt = read_checkpoint(path)
    model = ckpt.build_network()
    model.vocab = ckpt.vocab
    model.data_settings = ckpt.data_settings
    model.rhythm = ckpt.rhythm
    optimizer = ckpt.optimizer.build(model.parameters(), ckpt.lr)
    if ckpt.optimizer_state is not None:
        optimizer.load_state_dict(ckpt.optimizer_state)
    return model, nn.NLLLoss(), optimizer
