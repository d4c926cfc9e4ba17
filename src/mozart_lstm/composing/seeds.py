"""The seed windows a composition starts from: random windows of a held-out split, drawn with a seed (primer= gives
its own seed instead, composing/primer.py)."""

import torch


def seed_windows(dataset, count: int, seed: int) -> torch.Tensor:
    """`count` windows of a WindowDataset, drawn at random with `seed` (as generate.py draws its seeds)."""
    picks = torch.randint(len(dataset), (count,), generator=torch.Generator().manual_seed(seed))
    return torch.stack([dataset[i][0] for i in picks.tolist()])
