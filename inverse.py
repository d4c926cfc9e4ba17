"""Inverse problems for heat conduction (numpy/scipy/matplotlib only): python inverse.py 'eps=[0.7,0.8,1.0]'."""

import hydra

from labtools.errors import run_task


@hydra.main(config_path="conf", config_name="inverse", version_base="1.3")
def main(cfg):
    run_task(solve, cfg)


def solve(cfg):
    # imported only when a run starts, so that --help and a bad override answer without loading numpy or scipy
    from heat_inverse.task import run

    return run(cfg)


if __name__ == "__main__":
    main()
