"""What `make train` says up front when it trains the CPU recipe because no CUDA GPU is here."""

from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

LAB_COMMAND = "make train-lab"


def cpu_fallback_notice(cfg: DictConfig, output_dir: Path, precision_note: str | None = None) -> str:
    """The block `make train` prints before training on a CPU: what runs and why, the time limit, the precision
    (`precision_note`: what trainer.precision=auto chose, and why), where the checkpoint will be, and the command
    of the lab's run. The time per epoch follows once measured."""
    recipe = HydraConfig.get().runtime.choices.get("experiment") if HydraConfig.initialized() else None
    return "\n".join(
        [
            f"No CUDA GPU here, so `make train` runs the CPU recipe experiment={recipe}, stopped at "
            f"trainer.max_time={cfg.trainer.max_time} (DD:HH:MM:SS):",
            "  the lab's 30 epochs would take about a day on a CPU (measured: 56 min per epoch on 2 cores);",
            "  why the recipe, and what it reaches in that time: docs/recipe.md.",
            f"  Precision: {precision_note or f'trainer.precision={cfg.trainer.precision}, as set'} (docs/cpu_bf16.md)",
            "  The time per epoch, and how many epochs fit the limit, are logged after the first batches.",
            f"  Checkpoint: {output_dir / 'checkpoints' / 'last.ckpt'} (every epoch; `make generate` uses the newest)"
            + (", and best.ckpt, the epoch the validation split chose" if cfg.callbacks.get("best_checkpoint") else ""),
            f"  No limit: make train ARGS=trainer.max_time=null. The lab's run (a GPU wanted): {LAB_COMMAND}",
        ]
    )
