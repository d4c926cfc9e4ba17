"""Data-parallel runs (trainer=ddp): sync_batchnorm where it applies, the launch's environment checked before any
data is read, and the ways a launch fails to meet (a port taken, a node that never joins) each as one line.

The launch itself is Lightning's DDPStrategy: gloo on CPUs, nccl on CUDA, its `timeout` for joining."""

import contextlib
import logging
import os
import re
import signal

import torch.distributed
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, ListConfig, OmegaConf
from pytorch_lightning.accelerators import CUDAAccelerator

from labtools.checks import is_whole
from labtools.errors import UserError

log = logging.getLogger(__name__)

TIMEOUT_KEY = "trainer.strategy.timeout.seconds"
# launches whose processes are started apart, each with its own Hydra start time: by hand or srun per node, torchrun
SEPARATE_LAUNCH_VARIABLES = ("WORLD_SIZE", "SLURM_NTASKS")


def is_data_parallel(trainer_cfg) -> bool:
    """A DDP strategy, named (ddp, ddp_spawn, ...) or built (DDPStrategy), or more than one node."""
    strategy = trainer_cfg.get("strategy")
    if isinstance(strategy, DictConfig):
        strategy = strategy.get("_target_", "").rpartition(".")[2]
    return str(strategy).lower().startswith("ddp") or trainer_cfg.get("num_nodes") not in (None, 1)


def sync_batchnorm_applies(accelerator) -> bool:
    """torch's SyncBatchNorm runs on CUDA only; auto and gpu land on CUDA wherever torch sees it."""
    return accelerator in ("auto", "gpu", "cuda") and CUDAAccelerator.is_available()


def trainer_overrides(trainer_cfg) -> dict:
    """Settings of the trainer config that do not apply on this machine, switched off, with a line saying so."""
    if trainer_cfg.get("sync_batchnorm") and not sync_batchnorm_applies(trainer_cfg.get("accelerator")):
        log.info(
            "trainer.sync_batchnorm: off, torch's SyncBatchNorm runs on CUDA GPUs only; on the CPU each process "
            "keeps its own BatchNorm statistics"
        )
        return {"sync_batchnorm": False}
    return {}


def _processes(trainer_cfg) -> int | None:
    devices = trainer_cfg.get("devices")
    count = len(devices) if isinstance(devices, ListConfig | list) else devices if is_whole(devices) else None
    return None if count is None else count * trainer_cfg.num_nodes


def _env_whole(name: str, minimum: int, rule: str, maximum: int | None = None):
    value = os.environ.get(name)
    if value is None:
        return None
    if not value.isdigit() or int(value) < minimum or maximum is not None and int(value) > maximum:
        raise UserError(f"{name}={value}: must be {rule}")
    return int(value)


def check_launch(cfg) -> None:
    """The variables a launch by hand sets, against the trainer's settings; whether the processes share one run
    folder. Checked before the data: a mismatch would otherwise hang until the timeout, or end in a traceback."""
    if not is_data_parallel(cfg.trainer):
        return
    _env_whole("MASTER_PORT", 1, "a port number in [1, 65535]", maximum=65535)
    nodes = cfg.trainer.num_nodes
    node_rank = _env_whole("NODE_RANK", 0, "a whole number >= 0")
    if node_rank is not None and node_rank >= nodes:
        raise UserError(f"NODE_RANK={node_rank}: must be below trainer.num_nodes={nodes} (nodes count from 0)")
    world_size, processes = _env_whole("WORLD_SIZE", 1, "a whole number >= 1"), _processes(cfg.trainer)
    if world_size is not None and processes is not None and world_size != processes:
        raise UserError(
            f"WORLD_SIZE={world_size}: the launch's processes must equal trainer.num_nodes={nodes} x "
            f"trainer.devices={cfg.trainer.devices} = {processes}; set them to agree"
        )
    separate = nodes > 1 or any(int(os.environ.get(name, "1")) > 1 for name in SEPARATE_LAUNCH_VARIABLES)
    if separate and HydraConfig.initialized() and not _run_dir_given():
        log.warning(
            "A launch of several processes without hydra.run.dir: each names its run folder by its own start "
            "time (this one: %s); pass the same hydra.run.dir=... to every process, where rank 0 writes the run",
            HydraConfig.get().runtime.output_dir,
        )


def _run_dir_given() -> bool:
    return any(override.startswith("hydra.run.dir=") for override in HydraConfig.get().overrides.hydra)


def _launch_failure(cfg, trainer, err: Exception) -> str | None:
    """One line for a launch whose processes did not meet; None for any other failure."""
    address = f"{os.environ.get('MASTER_ADDR', '127.0.0.1')}:{os.environ.get('MASTER_PORT', '?')}"
    text = " ".join(str(err).split())
    timeout = OmegaConf.select(cfg, TIMEOUT_KEY)
    waited = f"within {timeout:g} s" if timeout is not None else "in time"
    longer = f", or wait longer: {TIMEOUT_KEY}=..." if timeout is not None else ""
    if "EADDRINUSE" in text or "address already in use" in text:
        return (
            f"MASTER_PORT={os.environ.get('MASTER_PORT')}: already in use at {address}; start every node with the "
            "same free MASTER_PORT (or leave it unset on one machine: Lightning picks a free one)"
        )
    if "waiting for clients" in text:
        joined = re.search(r"(\d+)/(\d+) clients joined", text)
        count = f" ({joined[1]} of {joined[2]} processes joined)" if joined else ""
        nodes = cfg.trainer.num_nodes
        missing = f"node {nodes - 1}" if nodes == 2 else f"nodes 1-{nodes - 1}" if nodes > 2 else "a process"
        return (
            f"{missing} never joined node 0 at {address} {waited}{count}: start it with the same command, "
            f"MASTER_ADDR and MASTER_PORT, and its own NODE_RANK{longer}"
        )
    if "trying to connect" in text:
        return (
            f"node {trainer.node_rank}: node 0 never answered at {address} {waited}: start node 0 (NODE_RANK=0) "
            f"with the same MASTER_ADDR and MASTER_PORT{longer}"
        )
    return None


@contextlib.contextmanager
def launch_errors(cfg, trainer):
    """Around trainer.fit: the processes' failure to meet becomes one UserError, and the processes Lightning
    started on this node are stopped with it (else they would wait for the rest until their own timeout)."""
    try:
        yield
    except torch.distributed.DistError as err:
        message = _launch_failure(cfg, trainer, err)
        if message is None:
            raise
        if trainer.strategy.launcher is not None:
            trainer.strategy.launcher.kill(getattr(signal, "SIGKILL", signal.SIGTERM))
        raise UserError(message) from err
