"""The baselines: the most frequent label, and the smoothed n-gram against an obvious dict implementation."""

import math
from collections import Counter, defaultdict

import numpy as np
import pytest
import torch

from labtools.errors import UserError
from mozart_lstm.baselines.ngram import NGramModel, fit_training_ngram
from mozart_lstm.callbacks.baselines import most_frequent_accuracy
from tests.defaults import data_settings


def test_most_frequent():
    assert most_frequent_accuracy(torch.tensor([3, 1, 3, 2, 3, 1])) == pytest.approx(0.5)


def reference_probability(sequences, vocab_size, order, history, token, discount=0.75) -> float:
    """Interpolated absolute discounting, written out with Counters, one probability at a time."""
    counts = [defaultdict(Counter) for _ in range(order)]  # [k]: history of length k -> next-token counts
    for seq in sequences:
        for t, w in enumerate(seq):
            for k in range(min(order - 1, t) + 1):
                counts[k][tuple(seq[t - k : t])][w] += 1
    probability = 1 / vocab_size
    for k in range(order):
        if k > len(history):
            break
        seen = counts[k].get(tuple(history[len(history) - k :]))
        if not seen:
            continue
        total = sum(seen.values())
        probability = max(seen[token] - discount, 0) / total + discount * len(seen) / total * probability
    return probability


def random_corpus(seed: int, vocab_size=6, n=3):
    rng = np.random.default_rng(seed)
    # a skewed, repetitive stream, so that every order has histories seen more than once
    return [rng.choice(vocab_size, size=int(rng.integers(5, 60)), p=[0.4, 0.2, 0.15, 0.1, 0.1, 0.05]) for _ in range(n)]


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_probabilities_agree_with_the_obvious_implementation(order):
    sequences = random_corpus(order)
    model = NGramModel(vocab_size=6, max_order=4).fit([torch.as_tensor(s) for s in sequences])
    windows = torch.as_tensor(np.random.default_rng(10 + order).integers(0, 6, size=(30, 5)))
    probs = model.log_probs(windows, order=order).exp().double()
    for row, window in zip(probs, windows.tolist(), strict=True):
        expected = [reference_probability(sequences, 6, order, window, w) for w in range(6)]
        assert row.tolist() == pytest.approx(expected, rel=1e-5)
    assert probs.sum(dim=1).tolist() == pytest.approx([1.0] * len(windows), rel=1e-5)


def test_a_history_never_seen_backs_off_and_nothing_has_probability_zero():
    model = NGramModel(vocab_size=5, max_order=3).fit([torch.tensor([0, 1, 2, 0, 1, 2])])
    after_unseen = model.log_probs(torch.tensor([[4, 4]]), order=3).exp()[0]
    unigram = model.log_probs(torch.tensor([[4, 4]]), order=1).exp()[0]
    assert torch.allclose(after_unseen, unigram)
    assert bool((after_unseen > 0).all())
    after_0_1 = model.log_probs(torch.tensor([[0, 1]]), order=3).exp()[0]
    assert int(after_0_1.argmax()) == 2  # 0 1 is always followed by 2


def test_sequences_are_counted_apart():
    """No n-gram spans two sequences: 1 -> 0 never occurs inside one."""
    model = NGramModel(vocab_size=3, max_order=2).fit([torch.tensor([0, 1]), torch.tensor([0, 1])])
    apart = model.log_probs(torch.tensor([[1]]), order=2).exp()[0]
    assert torch.allclose(apart, model.log_probs(torch.tensor([[1]]), order=1).exp()[0])


def test_scores_match_log_probs():
    sequences = [torch.as_tensor(s) for s in random_corpus(7, n=5)]
    model = NGramModel(vocab_size=6, max_order=3).fit(sequences)
    windows = torch.as_tensor(np.random.default_rng(1).integers(0, 6, size=(50, 4)))
    labels = torch.as_tensor(np.random.default_rng(2).integers(0, 6, size=50))
    scores = model.scores(windows, labels, chunk=7)
    for k in (1, 2, 3):
        log_probs = model.log_probs(windows, order=k)
        assert scores[k]["loss"] == pytest.approx(-log_probs[torch.arange(50), labels].mean().item(), rel=1e-5)
        assert scores[k]["acc"] == pytest.approx((log_probs.argmax(1) == labels).double().mean().item())
        top5 = (log_probs.topk(5).indices == labels[:, None]).any(1).double().mean().item()
        assert scores[k]["acc_top5"] == pytest.approx(top5)


def test_choose_order_takes_the_lowest_nll():
    # a deterministic cycle: the 3-gram knows the next token, the unigram does not
    cycle = torch.tensor([0, 1, 0, 2] * 30)
    model = NGramModel(vocab_size=3, max_order=3).fit([cycle])
    windows = cycle.unfold(0, 4, 1)[:-1]
    scores = model.choose_order(windows, cycle[4:])
    assert model.order == 3
    assert scores[3]["loss"] < scores[2]["loss"] < scores[1]["loss"]
    assert scores[3]["acc"] == 1.0
    assert scores[1]["loss"] == pytest.approx(-(0.5 * math.log(0.5 * 0.99) + 0.5 * math.log(0.25 * 0.99)), abs=0.02)


@pytest.mark.parametrize("order", [0, -1, 2.5, True, None])
def test_bad_order_is_one_line(order):
    with pytest.raises(UserError, match="whole number >= 1"):
        NGramModel(vocab_size=3, max_order=order)


def as_the_ngram_predicts(model: NGramModel, dataset, order: int):
    """The held-out windows of `dataset` (same positions) relabelled: each label the `order`-gram's most likely
    token after its window, so that this order fits them best. Windows in stream order: a label relabelled is in
    every later window that holds it."""
    from mozart_lstm.data.windows import WindowDataset

    ids = dataset.ids.clone()
    for start in sorted(dataset.starts.tolist()):
        ids[start + dataset.seq_len] = model.log_probs(ids[None, start : start + dataset.seq_len], order).argmax()
    return WindowDataset(ids, dataset.starts, dataset.seq_len)


def best_order(model: NGramModel, dataset) -> int:
    scores = model.scores(*dataset.tensors())
    return min(scores, key=lambda k: scores[k]["loss"])


def test_fit_training_ngram_chooses_on_validation_only(tmp_path, midi_dir, token_cache_dir):
    from mozart_lstm.data import MidiDataModule

    settings = dict(archive=str(midi_dir), cache_dir=str(token_cache_dir), data_dir=str(tmp_path), seq_len=8)
    settings |= dict(batch_size=4, num_parse_workers=1)
    three_way = MidiDataModule(**data_settings(**settings, split=[0.6, 0.2, 0.2]))
    three_way.setup()
    every_order = NGramModel(len(three_way.vocab), 4).fit(three_way.ngram_sequences())
    val, test = three_way.val_set, three_way.test_set
    chosen = best_order(every_order, val)
    # a test split that a higher order fits best, unlike the validation split: the choice stays the validation's
    three_way.test_set = as_the_ngram_predicts(every_order, test, order=4)
    assert best_order(every_order, three_way.test_set) > chosen
    assert fit_training_ngram(three_way, max_order=4).order == chosen
    # the validation split's windows so relabelled: now they choose
    three_way.val_set, three_way.test_set = as_the_ngram_predicts(every_order, val, order=4), test
    relabelled = best_order(every_order, three_way.val_set)
    assert relabelled > chosen and fit_training_ngram(three_way, max_order=4).order == relabelled
    two_way = MidiDataModule(**data_settings(**settings))
    two_way.setup()
    assert fit_training_ngram(two_way).order == 5
    assert fit_training_ngram(two_way, order=3).order == 3
