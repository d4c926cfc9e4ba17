"""Compose with a trained model: python generate.py [ckpt=outputs/train/<run>/checkpoints/last.ckpt]

Without ckpt, the newest run's checkpoints/last.ckpt under outputs/train/.

Writes mozart.mid, mozart.wav and mozart_piano_roll.png into the run dir (out= names them). Options: conf/generate.yaml.
"""

import hydra

from labtools.errors import run_task


@hydra.main(config_path="conf", config_name="generate", version_base="1.3")
def main(cfg):
    run_task("mozart_lstm.generate", cfg)


if __name__ == "__main__":
    main()
