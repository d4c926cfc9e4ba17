import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

ROOT = Path(__file__).resolve().parents[2]
MEASURED_HEAT = ROOT / ".." / "shared" / "data" / "measured_heat.npy"


@pytest.fixture(scope="session")
def measured_heat():
    """The lab's measurements for Problem 3, kept beside the repository in shared/data."""
    if not MEASURED_HEAT.is_file():
        pytest.skip(f"the lab's measured_heat.npy is not at {MEASURED_HEAT.resolve()}")
    return MEASURED_HEAT.resolve()


@pytest.fixture
def inverse_cfg(tmp_path):
    """Compose the inverse task's config with its outputs under tmp_path."""

    def make(*overrides):
        with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
            return compose("inverse", overrides=[f"output_dir={tmp_path}", *overrides])

    return make


@pytest.fixture(scope="session")
def run_cli():
    """Run `python ARGS` from the repository root, as a user runs inverse.py."""

    def run(*args, timeout=180):
        return subprocess.run(
            [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )

    return run
