"""The training task: data module, model, callbacks and loggers from the config; fit, then test once when a
validation split exists, on the checkpoint val/loss chose when there is one. `run(cfg)` returns the final
metrics."""

import logging
import os
import tempfile
from pathlib import Path

import pytorch_lightning as pl
import torch
from lightning_fabric.utilities.exceptions import MisconfigurationException
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.callbacks import ModelCheckpoint

from labtools.errors import UserError
from mozart_lstm import config
from mozart_lstm.cpu_fallback import cpu_fallback_notice
from mozart_lstm.distributed import check_launch, launch_errors, trainer_overrides
from mozart_lstm.models.checkpoint import AtomicCheckpointIO, read_checkpoint
from mozart_lstm.models.module import check_model_settings
from mozart_lstm.models.precision import resolve_precision, set_cudnn_tf32
from mozart_lstm.train_settings import check_float32_range, check_model_fits, check_train_settings

log = logging.getLogger(__name__)

# Lightning's own config mistakes too, besides those config.instantiate knows
CONFIG_ERRORS = (*config.CONFIG_ERRORS, MisconfigurationException)


def check_output_dir(path) -> Path:
    """Fail before parsing or training when the run dir cannot be written: read-only, not a folder, disk full."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path) as probe:
            probe.write(bytes(4096))
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as err:
        raise UserError(
            f"{path}: cannot write the run's outputs there ({err.strerror or err}); "
            "choose a writable folder with hydra.run.dir=... (or paths.output_dir=...)"
        ) from err
    return path


def instantiate(cfg, key: str, **kwargs):
    return config.instantiate(cfg, key, CONFIG_ERRORS, **kwargs)


def instantiate_entries(entries, group: str) -> list:
    """The named `_target_` entries of a config group such as callbacks or logger; an entry set to null is off."""
    objects = []
    for name, entry in (entries or {}).items():
        if entry is None:
            continue
        if not isinstance(entry, DictConfig) or "_target_" not in entry:
            raise UserError(f"{group}.{name}: expected an entry with a _target_, got {entry!r}")
        objects.append(instantiate(entry, f"{group}.{name}"))
    return objects


def _model_factory(cfg):
    """The model's settings checked, once, before the data is read; the module is built from them after it."""
    factory = instantiate(cfg.model, "model", _partial_=True)
    try:
        network = check_model_settings(**factory.keywords)
    except TypeError as err:
        raise UserError(f"model: {err}") from err
    check_model_fits(network)
    return factory


def _resume_checkpoint(ckpt_path):
    """The checkpoint to resume from, read before any data is parsed: a wrong path fails at once."""
    if not ckpt_path:
        return None
    saved = read_checkpoint(ckpt_path)
    if saved.kind != "lightning":
        raise UserError(f"{ckpt_path}: resuming needs a Lightning .ckpt (e.g. checkpoints/last.ckpt)")
    return saved


def _check_same_vocab(saved, vocab: list[str]) -> None:
    if saved is not None and saved.vocab != vocab:
        raise UserError(
            f"{saved.path}: its vocabulary ({len(saved.vocab)} tokens) differs from the data's ({len(vocab)}): "
            "resume with the same data settings (data.archive, data.max_files, data.chord_order)"
        )


def check_best_checkpoint(cfg) -> None:
    """A checkpoint chosen on held-out data must be chosen on the validation split, never on the test split."""
    monitor = OmegaConf.select(cfg, "callbacks.best_checkpoint.monitor")
    if monitor is not None and len(cfg.data.split) != 3:
        raise UserError(
            f"callbacks.best_checkpoint monitors {monitor}, which needs a validation split: set a 3-way "
            "data.split, e.g. [0.8,0.1,0.1], or callbacks.best_checkpoint=null"
        )


def chosen_checkpoint(trainer: pl.Trainer) -> str | None:
    """The best checkpoint by a val/ metric (callbacks.best_checkpoint), or None when no callback keeps one."""
    for callback in trainer.checkpoint_callbacks:
        if (
            isinstance(callback, ModelCheckpoint)
            and str(callback.monitor).startswith("val/")
            and callback.best_model_path
        ):
            return callback.best_model_path
    return None


def score_test_split(trainer: pl.Trainer, model, datamodule, test_name: str) -> dict[str, float]:
    """The one pass over the test split, on the chosen checkpoint's weights when there is one (else the last).

    The weights are loaded here rather than through trainer.test(ckpt_path=...), which would also restore the
    callbacks' states from that epoch: the curves would lose the epochs after it."""
    chosen = chosen_checkpoint(trainer)
    if chosen is not None:
        # under DDP only rank 0 wrote it, maybe on a disk of its own node: the others get its weights from it
        saved = torch.load(chosen, map_location=model.device, weights_only=True) if trainer.is_global_zero else None
        saved = trainer.strategy.broadcast(saved)
        model.load_state_dict(saved["state_dict"])
    trainer.test(model, datamodule=datamodule)
    metrics = final_metrics(trainer)  # test() starts a fresh set of callback metrics
    if chosen is not None:
        # 0-based, as the checkpoint files and metrics.csv count epochs
        metrics[f"{test_name}/chosen_epoch"] = float(saved["epoch"])
        log.info("Tested the checkpoint of epoch %d, chosen by validation loss: %s", saved["epoch"], chosen)
    return metrics


def final_metrics(trainer: pl.Trainer) -> dict[str, float]:
    # names without a "/" are progress-bar only
    return {key: float(value) for key, value in trainer.callback_metrics.items() if "/" in key}


def _loggable_hparams(trainer, model, datamodule, cfg) -> dict:
    """Readable settings for the loggers (no vocabulary); TensorBoard shows them beside the final metrics."""
    params = model.loggable_hparams() | {f"data/{key}": value for key, value in datamodule.hparams.items()}
    params |= {"trainer/precision": str(trainer.precision), "trainer/max_epochs": trainer.max_epochs}
    params |= {"trainer/devices": trainer.num_devices, "trainer/num_nodes": trainer.num_nodes, "seed": cfg.seed}
    return params


def run(cfg: DictConfig) -> dict[str, float]:
    check_train_settings(cfg)
    check_best_checkpoint(cfg)
    check_launch(cfg)
    output_dir = check_output_dir(cfg.paths.output_dir)
    accelerator = cfg.trainer.get("accelerator", "auto")
    cfg.trainer.precision, precision_note = resolve_precision(cfg.trainer.precision, accelerator)
    if cfg.get("cpu_fallback"):
        log.warning(cpu_fallback_notice(cfg, output_dir, precision_note))
    elif precision_note:
        log.info(precision_note)
    make_model = _model_factory(cfg)
    ckpt_path = cfg.get("ckpt_path")
    resumed = _resume_checkpoint(ckpt_path)
    if cfg.get("torch_threads"):
        torch.set_num_threads(cfg.torch_threads)
    set_cudnn_tf32(cfg.cudnn_tf32)
    pl.seed_everything(cfg.seed, workers=True)

    # before the data, whose first parse takes minutes: a bad trainer, callback or logger setting fails at once
    callbacks = instantiate_entries(cfg.get("callbacks"), "callbacks")
    loggers = instantiate_entries(cfg.get("logger"), "logger")
    settings = trainer_overrides(cfg.trainer)
    if cfg.data.get("transpose"):  # new shifts every epoch, in a training loader built anew each epoch
        settings["reload_dataloaders_every_n_epochs"] = 1
    trainer = instantiate(
        cfg.trainer, "trainer", callbacks=callbacks, logger=loggers or False, plugins=[AtomicCheckpointIO()], **settings
    )

    datamodule = instantiate(cfg.data, "data")
    check_float32_range(cfg)  # last of the checks: each setting's own message says more
    datamodule.setup("fit")
    _check_same_vocab(resumed, datamodule.vocab.tokens)
    if datamodule.hparams.train_targets != make_model.keywords["objective"]:
        raise UserError("data.train_targets must equal model.objective (leave data.train_targets at its default)")
    full_test = datamodule.full_test_name
    vocab = datamodule.vocab.tokens
    model = make_model(
        vocab=vocab,
        eval_name=datamodule.eval_name,
        test_name=full_test or "test",
        token_parts=datamodule.tokenizer.parts(vocab),
    )

    hparams = _loggable_hparams(trainer, model, datamodule, cfg)
    for logger in trainer.loggers:
        logger.log_hyperparams(hparams)  # into hparams.yaml, which Lightning writes at fit start
    try:
        with launch_errors(cfg, trainer):
            trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
    except MisconfigurationException as err:  # settings Lightning can judge only once it sees the data
        raise UserError(f"trainer: {' '.join(str(err).split())}") from err
    metrics = final_metrics(trainer)
    if full_test is not None:
        metrics |= score_test_split(trainer, model, datamodule, full_test)
    for logger in trainer.loggers:
        logger.log_hyperparams(hparams, metrics={f"final/{key}": value for key, value in metrics.items()})
        logger.save()
    log.info("Final metrics: %s", ", ".join(f"{key}={value:.4f}" for key, value in sorted(metrics.items())))
    log.info("Outputs in %s", output_dir)
    return metrics
