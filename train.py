"""Train the LSTM on Mozart's sonatas.

python train.py                              the lab's network and data: 20 sonatas, 30 epochs, hidden 512, batch 128
python train.py experiment=lab               the same, plus the lab's carried state across batches and audio samples
python train.py experiment=recipe            what `make train` runs: timed tokens, held-out sonatas, an hour
python train.py experiment=smoke             end to end on a CPU in under a minute
python train.py trainer=gpu trainer.precision=16-mixed
python train.py trainer=ddp trainer.devices=2 trainer.accelerator=cpu      data-parallel (docs/training.md)
python train.py ckpt_path=outputs/train/<run>/checkpoints/last.ckpt    resume
"""

import sys

import hydra

from labtools.errors import run_task
from mozart_lstm.launch_rank import hydra_overrides


@hydra.main(config_path="conf", config_name="train", version_base="1.3")
def main(cfg):
    run_task(train, cfg)


def train(cfg):
    # imported only when a run starts, so that --help and a bad override answer without loading torch
    from mozart_lstm.train import run

    return run(cfg)


if __name__ == "__main__":
    sys.argv += hydra_overrides("train")  # a DDP launch's other processes: no Hydra folder of their own
    main()
