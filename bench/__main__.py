"""`python -m bench` (make bench): the Hydra entry point; see conf/bench.yaml."""

import hydra

from labtools.errors import report_user_errors


@hydra.main(config_path="../conf", config_name="bench", version_base="1.3")
@report_user_errors
def main(cfg):
    from bench.run import run  # torch and Lightning load here, so that --help stays fast

    run(cfg)


if __name__ == "__main__":
    main()
