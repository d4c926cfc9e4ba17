"""Before a long generation: will what it holds fit in memory, and on a GPU in its memory? While it runs: a
progress bar.

The estimate is a floor built from measured costs: music21 holds about 12 KB per note while it builds and
writes a MIDI file (measured on 4000 tokens), the WAV is mixed in float64 and copied to float32, and the
generated ids live as int64 (copied once per step) and then as Python lists. On a GPU the floor is counted
from the arrays themselves: the weights, the ids, one step's LSTM activations and the sampler's float64 rows.
"""

import contextlib

import torch
from tqdm import tqdm

from labtools.errors import UserError
from labtools.memory import available_bytes, format_bytes

MIDI_BYTES_PER_TOKEN = 12_000
ID_BYTES_PER_TOKEN = 2 * 8 + 44  # int64 twice (torch.cat), then a Python int and a list slot per token
WAV_BYTES_PER_SAMPLE = 8 + 4
SHOW_AFTER_S = 1.0  # quicker runs show no bar
LSTM_FLOATS_PER_HIDDEN = 5  # four gates and the output, float32, per position and layer
SAMPLER_FLOAT64_ROWS = 6  # log-probs, probabilities, sorted, fixed point, their sum, the kept mask


def generation_bytes(num_samples, tokens, seconds_per_token, sample_rate, wav) -> float:
    """What the run holds at its peak: every sample's ids, plus one sample's MIDI and WAV being written."""
    held_ids = float(num_samples) * tokens * ID_BYTES_PER_TOKEN
    one_piece = float(tokens) * MIDI_BYTES_PER_TOKEN
    if wav:
        one_piece += float(tokens) * seconds_per_token * sample_rate * WAV_BYTES_PER_SAMPLE
    return held_ids + one_piece


def check_fits(cfg, seed_tokens: int, quarters_per_token: float) -> None:
    """One UserError, naming n_notes and num_samples and the estimate, when the run cannot fit in free memory.
    `quarters_per_token`: the mean gap between decoded tokens (`MusicTokenizer.mean_gap`)."""
    seconds_per_token = quarters_per_token * 60.0 / cfg.bpm
    tokens = seed_tokens + cfg.n_notes
    needed = generation_bytes(cfg.num_samples, tokens, seconds_per_token, cfg.sample_rate, cfg.wav)
    free = available_bytes()
    if free is not None and needed > free:
        raise UserError(
            f"n_notes={cfg.n_notes} with num_samples={cfg.num_samples}: generating and writing them needs about "
            f"{format_bytes(needed)}, more than the {format_bytes(free)} free here; "
            "lower n_notes or num_samples" + (" (or set wav=false)" if cfg.wav else "")
        )


def device_bytes(model, num_samples: int, tokens: int, window: int) -> float:
    """What generating holds on the model's device at a step's peak: weights, every sample's ids (twice, in
    torch.cat), and one window's LSTM activations and sampling rows per sample."""
    config = model.config
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    ids = 2 * 8 * float(num_samples) * tokens
    lstm = 4 * LSTM_FLOATS_PER_HIDDEN * max(window, 1) * config.hidden_size * config.num_layers
    sampling = 8 * SAMPLER_FLOAT64_ROWS * config.vocab_size
    return weights + ids + float(num_samples) * (lstm + sampling)


def check_fits_on_device(cfg, device: torch.device, model, window: int) -> None:
    """One UserError naming num_samples when generating on a CUDA GPU needs more memory than it has free."""
    if device.type != "cuda":
        return
    needed = device_bytes(model, cfg.num_samples, window + cfg.n_notes, window)
    free, _ = torch.cuda.mem_get_info(device)
    if needed > free:
        raise UserError(
            f"n_notes={cfg.n_notes} with num_samples={cfg.num_samples}: generating on {device} needs about "
            f"{format_bytes(needed)} of GPU memory, more than the {format_bytes(free)} free there; "
            "lower num_samples (or n_notes), or generate with device=cpu"
        )


@contextlib.contextmanager
def token_bar(n_notes: int, num_samples: int):
    """Yield a wrapper for generate_ids' step loop that drives a progress bar on stderr: tokens done over all
    samples, tokens/s and the time left. The bar is closed on the way out, Ctrl-C included, so that a message
    after it starts on a line of its own."""
    bar = tqdm(
        total=n_notes,
        desc="generating",
        unit=" tokens",
        unit_scale=num_samples if num_samples > 1 else True,  # a number scales the counts; True: k, M, G
        delay=SHOW_AFTER_S,
        dynamic_ncols=True,
    )

    def progress(steps):
        for step in steps:
            yield step
            bar.update(1)

    try:
        yield progress
    finally:
        bar.close()
