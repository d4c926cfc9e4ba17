"""Where this process stands in a data-parallel launch, read from the environment before Hydra starts.

Every process of a launch runs train.py, and each would write a Hydra folder of its own (`.hydra/`, `train.log`).
Only rank 0 writes the run's files; the others share its run folder (one hydra.run.dir for all) and keep to
a log of their own there. Lightning does this for the processes it starts itself (trainer.devices=N); this
covers the processes started by torchrun, srun or by hand, one per node. No torch here: `--help` stays fast.
"""

import os

# torchrun and srun number every process of a launch; a launch by hand numbers nodes, Lightning local processes
GLOBAL_RANK_VARIABLES = ("RANK", "SLURM_PROCID")


def launch_position(environ=os.environ) -> str | None:
    """None for rank 0 and outside any launch; else this process's name, `rank3` or `node1_process0`."""
    for variable in GLOBAL_RANK_VARIABLES:
        if variable in environ:
            rank = environ[variable]
            return None if rank == "0" else f"rank{rank}"
    node, local = environ.get("NODE_RANK", "0"), environ.get("LOCAL_RANK", "0")
    return None if (node, local) == ("0", "0") else f"node{node}_process{local}"


def hydra_overrides(task_name: str, environ=os.environ) -> list[str]:
    """What a process other than rank 0 adds to its command line: no `.hydra/` of its own, its own log file.
    Appended last, so that they win over the same keys of Lightning's relaunch."""
    position = launch_position(environ)
    if position is None:
        return []
    return [f"hydra.job.name={task_name}_{position}", "hydra.output_subdir=null"]
