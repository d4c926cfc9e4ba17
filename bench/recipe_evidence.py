"""Evidence for the CPU recipe (docs/recipe.md): the held-out curves of train.py runs beside their n-gram, and
one table row per run from its final metrics.

    python bench/recipe_evidence.py OUT_PNG RUN_DIR[:LABEL] ...

Each RUN_DIR is a train.py run dir (metrics.csv, train.log). The picture has one panel for the held-out NLL and
one for the accuracy, per epoch: each run's evaluated split (val/* with a 3-way split, else test/*) as a line,
its n-gram on the same windows (baseline/ngram_*, from the final metrics) dotted in the same colour. The table
rows printed are the final test figures (the chosen checkpoint's for a 3-way split, test_full/* for a 2-way one)
with the n-gram's on the same test windows.
"""

import csv
import re
import sys
from pathlib import Path

from matplotlib.figure import Figure

FINAL = re.compile(r"Final metrics: (.*)$")


def read_run(run_dir: Path) -> tuple[list[dict], dict[str, float]]:
    with open(run_dir / "metrics.csv", newline="") as file:
        rows = [{k: float(v) for k, v in row.items() if v} for row in csv.DictReader(file)]
    final = {}
    for line in (run_dir / "train.log").read_text().splitlines():
        if match := FINAL.search(line):
            final = {k: float(v) for k, v in (item.split("=") for item in match.group(1).split(", "))}
    return rows, final


def held_out_prefix(final: dict) -> str:
    return "test_full" if "test_full/loss" in final else "test"


def table_row(label: str, rows: list[dict], final: dict) -> str:
    test = held_out_prefix(final)
    ngram = f"baseline/{test}_ngram"
    chosen = int(final.get("test/chosen_epoch", max(row.get("epoch", 0) for row in rows)))
    figures = [final[f"{test}/loss"], final[f"{test}/acc"], final[f"{test}/acc_top5"]]
    figures += [final[f"{ngram}_loss"], final[f"{ngram}_acc"], final[f"{ngram}_acc_top5"]]
    cells = " | ".join(f"{value:.3f}" for value in figures)
    return f"| {label} | {cells} | {int(final[f'{ngram}_order'])} | {chosen} |"


def plot(runs: list[tuple[str, list[dict], dict]], out: Path) -> None:
    figure = Figure(figsize=(10, 3.8))
    axes = figure.subplots(1, 2)
    for color, (label, rows, final) in zip(("C0", "C1", "C2", "C3", "C4"), runs, strict=False):
        split = "val" if any("val/loss" in row for row in rows) else "test"
        evaluated = [row for row in rows if f"{split}/loss" in row]
        epochs = [row["epoch"] for row in evaluated]
        for ax, metric in zip(axes, ("loss", "acc"), strict=True):
            ax.plot(epochs, [row[f"{split}/{metric}"] for row in evaluated], color=color, label=f"{label} ({split})")
            if f"baseline/ngram_{metric}" in final:
                order = int(final["baseline/ngram_order"])
                ax.axhline(final[f"baseline/ngram_{metric}"], color=color, linestyle=":", label=f"its {order}-gram")
    for ax, name in zip(axes, ("held-out NLL (nats)", "held-out accuracy"), strict=True):
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    axes[0].set_ylim(top=6)
    axes[1].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out, dpi=80)


def main(out: str, *specs: str) -> None:
    runs = []
    for spec in specs:
        path, _, label = spec.partition(":")
        rows, final = read_run(Path(path))
        runs.append((label or Path(path).name, rows, final))
        if final:
            print(table_row(label or Path(path).name, rows, final))
    plot(runs, Path(out))


if __name__ == "__main__":
    main(*sys.argv[1:])
