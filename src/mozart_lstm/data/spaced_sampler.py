"""Each training label about once per epoch: every `spacing`-th training window, a new phase each epoch.

Neighbouring windows overlap by all but one token. A loss on every position of a window (`objective=all`)
already scores the next `seq_len` labels, so visiting all windows every epoch, as the lab does, scores each
label about `seq_len` times. Taking every `seq_len`-th window in stream order scores each about once.
"""

import torch
from torch.utils.data import Sampler


class SpacedEpochSampler(Sampler[int]):
    """Dataset indices of every `spacing`-th window in stream order, shuffled; the phase changes every epoch.

    Within each cycle of `spacing` epochs the phases are a seeded permutation of 0..spacing-1, so every window
    is drawn once per cycle. Every epoch has the same length (Lightning counts the batches once): a phase one
    window short is topped up with one random window. The draws depend on (seed, epoch) only, so a run
    resumed at an epoch boundary sees the same batches as an uninterrupted one.

    Each pass also moves on to the next epoch by itself. Lightning calls `set_epoch` before every epoch, which
    sets the true one (a resumed run's too); but under DDP it wraps this sampler in a DistributedSamplerWrapper,
    and whether the wrapper forwards `set_epoch` depends on the Lightning release. Without the count every epoch
    of such a run would repeat phase 0; with it each process counts alike, so the ranks still shard one list.
    """

    def __init__(self, starts: torch.Tensor, spacing: int, seed: int = 0):
        self.in_stream_order = torch.argsort(torch.as_tensor(starts))
        self.spacing = spacing
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return -(-len(self.in_stream_order) // self.spacing)

    def _generator(self, *salt: int) -> torch.Generator:
        return torch.Generator().manual_seed(hash((self.seed, *salt)) & (2**63 - 1))

    def phase(self, epoch: int) -> int:
        cycle, position = divmod(epoch, self.spacing)
        return int(torch.randperm(self.spacing, generator=self._generator(0, cycle))[position])

    def __iter__(self):
        epoch = self.epoch
        self.epoch += 1
        generator = self._generator(1, epoch)
        chosen = self.in_stream_order[self.phase(epoch) :: self.spacing]
        if len(chosen) < len(self):
            extra = torch.randint(len(self.in_stream_order), (len(self) - len(chosen),), generator=generator)
            chosen = torch.cat([chosen, self.in_stream_order[extra]])
        return iter(chosen[torch.randperm(len(chosen), generator=generator)].tolist())
