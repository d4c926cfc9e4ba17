"""Compose with a trained model: python generate.py ckpt=outputs/train/<run>/checkpoints/last.ckpt

Writes mozart.mid, mozart.wav and piano_roll.png into the run dir. Options: conf/generate.yaml.
"""

import hydra

from labtools.errors import report_user_errors


@hydra.main(config_path="conf", config_name="generate", version_base="1.3")
@report_user_errors
def main(cfg):
    # imported here so that `python generate.py --help` does not load torch and music21
    from mozart_lstm.generate import run

    run(cfg)


if __name__ == "__main__":
    main()
