"""Inverse problems for heat conduction (numpy/scipy/matplotlib only): python inverse.py 'eps=[0.7,0.8,1.0]'."""

import sys

import hydra

from heat_inverse.errors import InputError
from heat_inverse.task import run


@hydra.main(config_path="conf", config_name="inverse", version_base="1.3")
def main(cfg):
    try:
        run(cfg)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
