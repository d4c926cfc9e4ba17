"""docs/development.md's layout of the code matches the tree: every module has a row, every row names a path.

The layout is a table, one path per row in its first cell (`path/` for a folder). The modules are read from the
tree, not listed here, so a module added, moved or removed fails this test until its row follows.
"""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEVELOPMENT = REPO / "docs" / "development.md"
HEADING = "## Layout of the code"
# a table row whose first cell is one code span: | `src/mozart_lstm/train.py` | ... |
ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|")
# whose every .py file needs a row; bench/ only where the layout lists it
MODULE_FOLDERS = ("src", "bench")
SKIPPED_PARTS = {"__pycache__"}


def layout_paths(text: str) -> list[str]:
    """The paths of the layout section's rows, in order."""
    lines = text.splitlines()
    start = lines.index(HEADING) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return [match.group(1) for line in lines[start:end] if (match := ROW.match(line))]


def modules(repo: Path, paths: list[str]) -> list[str]:
    """Every .py file at the repository's root and under src/ (and bench/ when the layout names it)."""
    folders = [folder for folder in MODULE_FOLDERS if folder == "src" or any(p.startswith(f"{folder}/") for p in paths)]
    found = list(repo.glob("*.py"))
    for folder in folders:
        found += [path for path in (repo / folder).rglob("*.py") if not SKIPPED_PARTS & set(path.parts)]
    return sorted(path.relative_to(repo).as_posix() for path in found)


def missing_from_layout(repo: Path, paths: list[str]) -> list[str]:
    """Modules with no row; a package's __init__.py is covered by its folder's row."""
    named = set(paths)
    return [
        module
        for module in modules(repo, paths)
        if module not in named and not (module.endswith("/__init__.py") and module.removesuffix("__init__.py") in named)
    ]


def named_but_absent(repo: Path, paths: list[str]) -> list[str]:
    """Rows whose path is not in the tree, or names a folder that is a file or the other way round."""
    return [path for path in paths if not (repo / path).exists() or (repo / path).is_dir() != path.endswith("/")]


def test_every_module_has_a_row_in_the_layout():
    assert missing_from_layout(REPO, layout_paths(DEVELOPMENT.read_text(encoding="utf-8"))) == []


def test_every_path_in_the_layout_exists():
    paths = layout_paths(DEVELOPMENT.read_text(encoding="utf-8"))
    assert any(path.startswith("src/") for path in paths)  # the section was found and read
    assert named_but_absent(REPO, paths) == []


def test_every_path_has_one_row():
    paths = layout_paths(DEVELOPMENT.read_text(encoding="utf-8"))
    assert sorted({path for path in paths if paths.count(path) > 1}) == []


def test_a_module_without_a_row_and_a_row_without_a_file_are_caught(tmp_path):
    for module in ("run.py", "src/pkg/__init__.py", "src/pkg/a.py", "src/pkg/new/b.py", "bench/case.py"):
        (tmp_path / module).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / module).write_text("")
    (tmp_path / "src/pkg/__pycache__").mkdir()
    (tmp_path / "src/pkg/__pycache__/a.py").write_text("")
    page = "\n".join(
        [
            "# Development",
            HEADING,
            "| path | what |",
            "|---|---|",
            "| `run.py` | the entry point |",
            "| `src/pkg/` | the package |",
            "| `src/pkg/a.py` | a |",
            "| `src/pkg/gone.py` | moved away |",
            "| `src/pkg/a.py/` | a file named as a folder |",
            "## Next section",
            "| `src/pkg/new/b.py` | outside the layout: does not count |",
        ]
    )
    paths = layout_paths(page)
    assert paths == ["run.py", "src/pkg/", "src/pkg/a.py", "src/pkg/gone.py", "src/pkg/a.py/"]
    assert missing_from_layout(tmp_path, paths) == ["src/pkg/new/b.py"]  # bench/ is not listed, so not checked
    assert named_but_absent(tmp_path, paths) == ["src/pkg/gone.py", "src/pkg/a.py/"]
    assert missing_from_layout(tmp_path, [*paths, "bench/"]) == ["bench/case.py", "src/pkg/new/b.py"]
