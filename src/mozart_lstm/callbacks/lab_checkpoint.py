"""The lab's own checkpoint format, written every epoch beside Lightning's .ckpt files."""

from pathlib import Path

from pytorch_lightning.callbacks import Checkpoint

from mozart_lstm.models.checkpoint import save_lab_checkpoint


class LabCheckpoint(Checkpoint):
    """`torch.save({'epoch', 'model_state_dict', 'optimizer_state_dict', 'loss', 'vocab', 'hparams', ...})`.

    A Checkpoint subclass, so Lightning calls it after the LightningModule's epoch-end hook, as it does for
    ModelCheckpoint. `epoch` counts from 0, like Lightning's `epoch_{epoch:03d}.ckpt` names.
    """

    def __init__(self, dirpath, filename: str = "lab_epoch_{epoch:03d}.pt"):
        self.dirpath = Path(dirpath)
        self.filename = filename

    def on_train_epoch_end(self, trainer, pl_module):
        if trainer.sanity_checking or trainer.fast_dev_run or not trainer.is_global_zero:
            return
        loss = trainer.callback_metrics.get("train/loss")
        datamodule = trainer.datamodule
        save_lab_checkpoint(
            self.dirpath / self.filename.format(epoch=trainer.current_epoch),
            epoch=trainer.current_epoch,
            module=pl_module,
            optimizer=trainer.optimizers[0],
            loss=None if loss is None else float(loss),
            data_settings=dict(datamodule.hparams) if datamodule is not None else {},
            rhythm=getattr(datamodule, "rhythm", None),
        )
