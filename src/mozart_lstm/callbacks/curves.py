"""Loss and accuracy curves and a metrics table, rewritten after every epoch."""

import csv
import io
import logging
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from pytorch_lightning.callbacks import Callback

from labtools.fileio import atomic_path, atomic_write_text

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test", "test_full")
# the baselines callback's figures (baseline/*), logged beside every evaluation: columns of metrics.csv after the
# network's, so that one file holds a run's comparison
BASELINE = "baseline"
COLUMN_ORDER = (*SPLITS, BASELINE)


def _split_metrics(metrics: dict, splits) -> dict:
    return {key: float(value) for key, value in metrics.items() if key.split("/")[0] in splits}


class TrainingCurves(Callback):
    """Writes `metrics.csv`, `plots/loss.png` and `plots/accuracy.png` under `output_dir`.

    Follows whichever metrics exist: `test/*` every epoch with the lab's 2-way split, or `val/*` every epoch
    and `test/*` once at the end with a 3-way split (drawn as a single point), and `test_full/*` once at the end
    when the epochs evaluated a subset of the test split. The baselines' figures, when logged, are columns of
    the table too, and their losses and accuracies are drawn as dashed lines on the matching plot. The first
    epoch whose evaluation accuracy reaches `accuracy_goal` is logged: a goal of 0 is always reached, so a test
    of the line holds whatever accuracy a machine's kernels round to.
    """

    def __init__(self, output_dir, accuracy_goal: float = 0.95):
        self.output_dir = Path(output_dir)
        self.accuracy_goal = accuracy_goal
        self.rows: dict[int, dict] = {}  # epoch -> {metric: value}
        self.baselines: dict[str, float] = {}
        self.goal_epoch: int | None = None

    def on_validation_end(self, trainer, pl_module):
        if trainer.sanity_checking:
            return
        metrics = trainer.callback_metrics
        evaluated = _split_metrics(metrics, ("val", "test"))
        self.baselines = _split_metrics(metrics, (BASELINE,))
        self.rows.setdefault(trainer.current_epoch, {}).update(evaluated | self.baselines)
        accuracy = evaluated.get(f"{pl_module.eval_name}/acc")
        if self.goal_epoch is None and accuracy is not None and accuracy >= self.accuracy_goal:
            self.goal_epoch = trainer.current_epoch
            log.info(
                "*** %s/acc = %.4f: reached %.2f for the first time, at epoch %d ***",
                pl_module.eval_name,
                accuracy,
                self.accuracy_goal,
                trainer.current_epoch,
            )

    def on_train_epoch_end(self, trainer, pl_module):
        if trainer.sanity_checking or trainer.fast_dev_run:
            return
        self.rows.setdefault(trainer.current_epoch, {}).update(_split_metrics(trainer.callback_metrics, ("train",)))
        if trainer.is_global_zero:
            self.write()

    def on_test_end(self, trainer, pl_module):
        if trainer.fast_dev_run or not self.rows:
            return
        self.rows[max(self.rows)].update(_split_metrics(trainer.callback_metrics, ("test", "test_full", BASELINE)))
        if trainer.is_global_zero:
            self.write()

    def state_dict(self) -> dict:
        return {"rows": self.rows, "goal_epoch": self.goal_epoch}

    def load_state_dict(self, state_dict: dict) -> None:
        self.rows = {int(epoch): row for epoch, row in state_dict["rows"].items()}
        self.goal_epoch = state_dict["goal_epoch"]

    def write(self) -> None:
        epochs = sorted(self.rows)
        columns = sorted({key for row in self.rows.values() for key in row}, key=_column_order)
        table = io.StringIO()
        writer = csv.DictWriter(table, fieldnames=["epoch", *columns], lineterminator="\n")
        writer.writeheader()
        writer.writerows({"epoch": epoch, **self.rows[epoch]} for epoch in epochs)
        atomic_write_text(self.output_dir / "metrics.csv", table.getvalue())
        for name, kind, ylabel in (("loss", "loss", "mean NLL loss"), ("accuracy", "acc", "accuracy")):
            curves = [column for column in columns if column.endswith(f"/{kind}")]
            self._plot(name, curves, ylabel, baseline_lines(self.baselines, kind))

    def _plot(self, name: str, columns: list[str], ylabel: str, constants: dict) -> None:
        fig = Figure(figsize=(6.4, 4.0), layout="constrained")
        ax = fig.subplots()
        for column in columns:
            points = [(epoch, row[column]) for epoch, row in sorted(self.rows.items()) if column in row]
            ax.plot(*zip(*points, strict=True), marker="o", markersize=3, label=column)
        for label, value in constants.items():
            ax.axhline(value, linestyle="--", linewidth=1, color="gray", alpha=0.7)
            ax.annotate(label.removeprefix("baseline/"), (0, value), fontsize=7, color="gray", va="bottom")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if columns:
            ax.legend()
        with atomic_path(self.output_dir / "plots" / f"{name}.png") as tmp:
            fig.savefig(tmp, format="png", dpi=110)


def baseline_lines(baselines: dict, kind: str) -> dict:
    """The baselines drawn on the `kind` plot ("loss" or "acc"): their top-1 figures of that kind, not the
    n-gram's order or its top-5 accuracy, which have no curve beside them."""
    lines = {}
    for key, value in baselines.items():
        words = key.removeprefix(f"{BASELINE}/").split("_")
        if kind in words and "top5" not in words:
            lines[key] = value
    return lines


def _column_order(column: str) -> tuple:
    split, _, metric = column.partition("/")
    return (COLUMN_ORDER.index(split) if split in COLUMN_ORDER else len(COLUMN_ORDER), metric)
