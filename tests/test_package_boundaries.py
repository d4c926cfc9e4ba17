"""The two applications share only `labtools`: the inverse task must run where the music stack is not installed."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def imported_packages(package: str) -> dict[str, set[str]]:
    """Top-level packages each module of `package` imports, by file."""
    found = {}
    for path in sorted((SRC / package).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(SRC))] = names
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("heat_inverse", {"mozart_lstm", "torch", "pytorch_lightning", "lightning", "music21"}),
        ("labtools", {"mozart_lstm", "heat_inverse", "torch", "numpy", "music21", "omegaconf", "hydra"}),
    ],
)
def test_package_imports_nothing_it_must_not(package, forbidden):
    modules = imported_packages(package)
    assert modules  # the scan really read the package
    leaks = {module: sorted(names & forbidden) for module, names in modules.items() if names & forbidden}
    assert not leaks


def test_every_entry_script_reports_user_errors_the_same_way():
    root = SRC.parent
    for script in ("train.py", "generate.py", "inverse.py"):
        text = (root / script).read_text()
        assert "from labtools.errors import report_user_errors" in text, script
        assert "@report_user_errors" in text, script
