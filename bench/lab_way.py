"""The lab notebook's way of doing each step, kept as the benchmark's reference (side A).

Each function is what the lab's code does, with only the knobs the benchmark needs (file list, step count,
autocast), so the project's numbers are compared against the real thing, not a straw man.
"""

import time

import torch
from torch import nn
from torch.utils.data import DataLoader, random_split


def lab_parse(files) -> dict[str, list[str]]:
    """Lab Problem 1: the notes of `partitionByInstrument(score).parts[0]`, file by file, in one process.

    Returns the tokens per file name. The first part is not always the piano: a file whose first MIDI track
    is an empty port or conductor track yields no tokens at all, which is how the lab's way loses sonatas.
    """
    from music21 import chord, converter, instrument, note

    tokens = {}
    for file in files:
        # forceSource: music21 otherwise reads its own pickle of an earlier parse, and "cold" would be a lie.
        midi = converter.parse(str(file), forceSource=True)
        parts = instrument.partitionByInstrument(midi)
        elements = parts.parts[0].recurse() if parts else midi.flatten().notes
        notes = []
        for element in elements:
            if isinstance(element, note.Note):
                notes.append(str(element.pitch))
            elif isinstance(element, chord.Chord):
                notes.append(".".join(str(n) for n in element.pitches))
        tokens[file.name] = notes
    return tokens


def lab_pairs(notes, seq_len: int) -> list[list]:
    """Lab Problem 2: a list of `[LongTensor(seq_len), label]` pairs, one per window."""
    pitchnames = sorted(set(notes))
    note_to_int = {name: number for number, name in enumerate(pitchnames)}
    pairs = []
    for i in range(len(notes) - seq_len):
        sequence_in = [note_to_int[name] for name in notes[i : i + seq_len]]
        pairs.append([torch.LongTensor(sequence_in), note_to_int[notes[i + seq_len]]])
    return pairs


def lab_loaders(notes, seq_len: int, split, batch_size: int, seed: int):
    """The lab's windows, random split and DataLoaders with the default collate."""
    train, test = random_split(lab_pairs(notes, seq_len), list(split), torch.Generator().manual_seed(seed))
    return DataLoader(train, batch_size=batch_size, shuffle=True), DataLoader(test, batch_size=1)


def lab_train(model, loader, steps: int, warmup: int, bf16: bool, lr: float = 1e-3, clip: float = 5.0):
    """The lab's training loop for `warmup + steps` batches; returns the seconds of the last `steps`.

    `bf16` wraps the forward pass in CPU autocast, as Lightning's bf16-mixed does, for a like-for-like
    measure of Lightning's own overhead.
    """
    optimizer = torch.optim.RMSprop(model.parameters(), lr=lr)
    criterion = nn.NLLLoss()
    model.train()
    batches = _endless(loader)
    start = None
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        x, y = next(batches)
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            log_probs, _ = model(x)
        loss = criterion(log_probs.float(), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
    return time.perf_counter() - start


def _endless(loader):
    while True:
        yield from loader


@torch.no_grad()
def lab_evaluate(model, pairs) -> dict[str, float]:
    """The lab's test loop: one window at a time; mean NLL and accuracy over `pairs`."""
    criterion = nn.NLLLoss()
    model.eval()
    total_loss, correct = 0.0, 0
    for x, y in DataLoader(pairs, batch_size=1):
        log_probs, _ = model(x)
        total_loss += criterion(log_probs, y).item()
        correct += (log_probs.argmax(dim=1) == y).sum().item()
    return {"loss": total_loss / len(pairs), "acc": correct / len(pairs)}
