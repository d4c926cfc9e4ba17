"""Compose with a trained model: python generate.py [ckpt=outputs/train/<run>/checkpoints/best.ckpt]

Without ckpt, the newest run under outputs/train/: its checkpoints/best.ckpt (the epoch validation chose), else
its checkpoints/last.ckpt; one line says which.

Writes mozart.mid, mozart.wav and mozart_piano_roll.png into the run dir (out= names them). Options: conf/generate.yaml.
"""

import hydra

from labtools.errors import run_task


@hydra.main(config_path="conf", config_name="generate", version_base="1.3")
def main(cfg):
    run_task(generate, cfg)


def generate(cfg):
    # imported only when a run starts, so that --help and a bad override answer without loading torch or music21
    from mozart_lstm.generate import run

    return run(cfg)


if __name__ == "__main__":
    main()
