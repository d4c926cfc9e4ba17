"""Compose with a trained model: python generate.py ckpt=outputs/train/<run>/checkpoints/last.ckpt

Writes mozart.mid, mozart.wav and piano_roll.png into the run dir. Options: conf/generate.yaml.
"""

import hydra

from labtools.errors import run_task


@hydra.main(config_path="conf", config_name="generate", version_base="1.3")
def main(cfg):
    run_task("mozart_lstm.generate", cfg)


if __name__ == "__main__":
    main()
