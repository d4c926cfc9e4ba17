"""Baseline accuracies: the most frequent label and the k-token context lookup."""

from collections import Counter, defaultdict

import pytest
import torch

from mozart_lstm.callbacks.baselines import context_lookup_accuracy, most_frequent_accuracy


def lookup_reference(train_x, train_y, eval_x, eval_y, k: int) -> float:
    """The same rule with a dict of Counters: slow but obvious."""
    seen = defaultdict(Counter)
    for row, label in zip(train_x[:, -k:].tolist(), train_y.tolist(), strict=True):
        seen[tuple(row)][label] += 1
    hits = 0
    for row, label in zip(eval_x[:, -k:].tolist(), eval_y.tolist(), strict=True):
        counts = seen.get(tuple(row))
        if counts:
            hits += min(counts.items(), key=lambda item: (-item[1], item[0]))[0] == label
    return hits / len(eval_y)


def test_most_frequent():
    assert most_frequent_accuracy(torch.tensor([3, 1, 3, 2, 3, 1])) == pytest.approx(0.5)


def test_lookup_by_hand():
    train_x = torch.tensor([[0, 1], [5, 1], [9, 1], [0, 2]])
    train_y = torch.tensor([7, 7, 4, 3])  # after ...1: 7 twice, 4 once; after ...2: 3
    eval_x = torch.tensor([[8, 1], [8, 2], [8, 6], [1, 1]])  # ...6 was never seen
    eval_y = torch.tensor([7, 4, 6, 7])
    assert context_lookup_accuracy(train_x, train_y, eval_x, eval_y, k=1) == pytest.approx(2 / 4)
    assert context_lookup_accuracy(train_x, train_y, eval_x, eval_y, k=2) == 0.0  # no 2-token context seen


def test_ties_go_to_the_smallest_id():
    train_x, train_y = torch.tensor([[1], [1]]), torch.tensor([5, 2])
    assert context_lookup_accuracy(train_x, train_y, torch.tensor([[1]]), torch.tensor([2]), k=1) == 1.0


@pytest.mark.parametrize("k", [1, 2, 3])
def test_agrees_with_the_obvious_implementation(k):
    generator = torch.Generator().manual_seed(k)
    train_x, train_y = (
        torch.randint(0, 4, (500, 3), generator=generator),
        torch.randint(0, 6, (500,), generator=generator),
    )
    eval_x, eval_y = (
        torch.randint(0, 4, (200, 3), generator=generator),
        torch.randint(0, 6, (200,), generator=generator),
    )
    expected = lookup_reference(train_x, train_y, eval_x, eval_y, k)
    assert context_lookup_accuracy(train_x, train_y, eval_x, eval_y, k) == pytest.approx(expected)


def test_context_longer_than_the_window_is_refused():
    x, y = torch.zeros(3, 4, dtype=torch.long), torch.zeros(3, dtype=torch.long)
    with pytest.raises(ValueError, match="window length 4"):
        context_lookup_accuracy(x, y, x, y, k=5)
