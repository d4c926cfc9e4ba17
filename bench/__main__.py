"""`python -m bench` (make bench): the Hydra entry point; see conf/bench.yaml."""

import hydra

from labtools.errors import run_task


@hydra.main(config_path="../conf", config_name="bench", version_base="1.3")
def main(cfg):
    run_task("bench.run", cfg)


if __name__ == "__main__":
    main()
