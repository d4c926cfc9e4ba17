"""The rooms of mozart_lstm and the one-way imports between them (docs/development.md):

- `notes` (notes in time) is the ground floor: it imports nothing of the project;
- `tokenizers` know tokens, and decode them into notes; they import only notes and labtools;
- `judging` knows notes, never tokens, music21 or the composing side;
- `composing` may call the judge (the calibration does), never the other way;
- no module outside `tokenizers` asks which tokenization it holds.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "mozart_lstm"
# what a token string was once sniffed by: the timed tokens' separator
TOKEN_SEPARATORS = {":"}


def modules(room: str) -> list[Path]:
    found = sorted((PACKAGE / room).rglob("*.py")) if (PACKAGE / room).is_dir() else [PACKAGE / f"{room}.py"]
    assert found, room  # the scan really reads the room
    return found


def imports(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function, by its full name."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return names


def project_rooms(path: Path) -> set[str]:
    """The rooms of mozart_lstm that `path` imports (`mozart_lstm.judging.features` → `judging`)."""
    return {name.split(".")[1] for name in imports(path) if name.startswith("mozart_lstm.")}


@pytest.mark.parametrize(
    ("room", "allowed_rooms", "forbidden_packages"),
    [
        ("notes", set(), {"music21", "torch"}),
        ("tokenizers", {"tokenizers", "notes"}, {"torch"}),
        ("judging", {"judging", "notes"}, {"music21", "torch"}),
    ],
)
def test_a_room_imports_only_the_rooms_below_it(room, allowed_rooms, forbidden_packages):
    leaks = {}
    for path in modules(room):
        rooms = project_rooms(path) - allowed_rooms
        packages = {name.split(".")[0] for name in imports(path)} & forbidden_packages
        if rooms or packages:
            leaks[path.name] = sorted(rooms | packages)
    assert not leaks


def test_nothing_imports_the_composing_side_from_the_judge_or_the_tokenizers():
    for room in ("judging", "tokenizers", "notes", "data"):
        for path in modules(room):
            assert "composing" not in project_rooms(path), path


def branches_on_the_kind(path: Path) -> list[str]:
    """Comparisons with a tokenization's name, and splits of a token on its separator, with their lines."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Compare):
            sides = [ast.unparse(side) for side in (node.left, *node.comparators)]
            constants = {c.value for c in (node.left, *node.comparators) if isinstance(c, ast.Constant)}
            if "timed" in constants or any("tokenization" in side for side in sides):
                found.append(f"{path.name}:{node.lineno} compares with a tokenization's name")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            arguments = [a.value for a in node.args if isinstance(a, ast.Constant)]
            splits = node.func.attr in ("partition", "split", "rpartition") and TOKEN_SEPARATORS & set(arguments)
            if splits and "token" in ast.unparse(node.func.value):
                found.append(f"{path.name}:{node.lineno} splits a token on a separator")
        elif isinstance(node, ast.Name) and node.id == "is_timed":
            found.append(f"{path.name}:{node.lineno} asks is_timed")
    return found


def test_no_module_outside_the_tokenizers_branches_on_the_tokenization():
    outside = [path for path in sorted(PACKAGE.rglob("*.py")) if "tokenizers" not in path.parts]
    assert len(outside) > 40
    found = [line for path in outside for line in branches_on_the_kind(path)]
    assert not found


def test_the_scan_finds_a_branch_on_the_kind(tmp_path):
    sniffing = tmp_path / "sniffing.py"
    sniffing.write_text(
        'def f(cfg, token):\n    if cfg.tokenization == "timed":\n        return token.partition(":")[2]\n'
        'def g(line):\n    return line.split(":")  # not a token: left alone\n'
    )
    assert branches_on_the_kind(sniffing) == [
        "sniffing.py:2 compares with a tokenization's name",
        "sniffing.py:3 splits a token on a separator",
    ]
