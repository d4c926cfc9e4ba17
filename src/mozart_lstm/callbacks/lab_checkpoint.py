"""The lab's own checkpoint format, written every epoch beside Lightning's .ckpt files."""

from pathlib import Path

from pytorch_lightning.callbacks import Checkpoint

from labtools.checks import is_whole
from labtools.errors import UserError
from mozart_lstm.models.checkpoint import save_lab_checkpoint


class LabCheckpoint(Checkpoint):
    """`torch.save({'epoch', 'model_state_dict', 'optimizer_state_dict', 'loss', 'vocab', 'hparams', ...})`.

    A Checkpoint subclass, so Lightning calls it after the LightningModule's epoch-end hook, as it does for
    ModelCheckpoint. `epoch` counts from 0, like Lightning's `epoch_{epoch:03d}.ckpt` names. `keep_last=N`
    deletes the files of epochs before the last N once a new one is written; -1 keeps them all.
    """

    def __init__(self, dirpath, filename: str = "lab_epoch_{epoch:03d}.pt", keep_last: int = -1):
        if keep_last != -1 and not is_whole(keep_last):
            raise UserError(f"keep_last_checkpoints={keep_last!r}: must be -1 (keep all) or a whole number >= 1")
        self.dirpath = Path(dirpath)
        self.filename = filename
        self.keep_last = keep_last

    def _path(self, epoch: int) -> Path:
        return self.dirpath / self.filename.format(epoch=epoch)

    def on_train_epoch_end(self, trainer, pl_module):
        if trainer.sanity_checking or trainer.fast_dev_run or not trainer.is_global_zero:
            return
        loss = trainer.callback_metrics.get("train/loss")
        datamodule = trainer.datamodule
        epoch = trainer.current_epoch
        save_lab_checkpoint(
            self._path(epoch),
            epoch=epoch,
            module=pl_module,
            optimizer=trainer.optimizers[0],
            loss=None if loss is None else float(loss),
            data_settings=dict(datamodule.hparams) if datamodule is not None else {},
            rhythm=getattr(datamodule, "rhythm", None),
        )
        if self.keep_last != -1:
            # every older epoch, so that files a resumed run inherited go too
            for old in range(epoch - self.keep_last + 1):
                self._path(old).unlink(missing_ok=True)
