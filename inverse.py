"""Inverse problems for heat conduction (numpy/scipy/matplotlib only): python inverse.py 'eps=[0.7,0.8,1.0]'."""

import hydra

from labtools.errors import report_user_errors


@hydra.main(config_path="conf", config_name="inverse", version_base="1.3")
@report_user_errors
def main(cfg):
    from heat_inverse.task import run  # scipy and matplotlib load here, so that --help stays fast

    run(cfg)


if __name__ == "__main__":
    main()
