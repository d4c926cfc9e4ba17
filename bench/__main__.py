"""`python -m bench` (make bench): the Hydra entry point; see conf/bench.yaml."""

import hydra

from labtools.errors import run_task


@hydra.main(config_path="../conf", config_name="bench", version_base="1.3")
def main(cfg):
    run_task(run_bench, cfg)


def run_bench(cfg):
    # imported only when a run starts, so that --help and a bad override answer without loading torch
    from bench.run import run

    return run(cfg)


if __name__ == "__main__":
    main()
