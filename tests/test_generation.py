"""Problem 4 (predict_notes), Problem 5 (write_midi), the synthesizer and the piano roll,
on a tiny model trained by the session fixture `tiny_ckpt`."""

import functools

import numpy as np
import pytest
import torch
from matplotlib.image import imread
from music21 import converter
from scipy.io import wavfile

from labtools.errors import SettingError
from mozart_lstm.composing import predict_notes, write_midi
from mozart_lstm.composing.piano_roll import NEW_COLOUR, SEED_COLOUR, save_piano_roll
from mozart_lstm.composing.sampling import Sampler, generate_ids
from mozart_lstm.composing.synth import TAIL_S, render, write_wav
from mozart_lstm.data import MidiDataModule
from mozart_lstm.models import MozartLSTM, read_checkpoint
from mozart_lstm.tokenizers import Rhythm, build_tokenizer
from mozart_lstm.tokenizers.rhythm import make_timing

PITCH = build_tokenizer("pitch")

pytestmark = pytest.mark.usefixtures("single_torch_thread")


@pytest.fixture(scope="module")
def ckpt(tiny_ckpt):
    return read_checkpoint(tiny_ckpt)


@pytest.fixture(scope="module")
def model(ckpt):
    return ckpt.build_network()


@pytest.fixture(scope="module")
def vocab(ckpt) -> list[str]:
    return ckpt.vocab


@pytest.fixture(scope="module")
def predict(model, ckpt):
    """predict_notes with the checkpoint's vocabulary and training window, as a lab notebook calls it."""
    return functools.partial(predict_notes, model, ckpt.vocab, window=ckpt.data_settings["seq_len"])


@pytest.fixture(scope="module")
def stream(ckpt, vocab) -> list[str]:
    """The tiny corpus's token stream, rebuilt from the checkpoint's data settings."""
    datamodule = MidiDataModule(**ckpt.data_settings)
    datamodule.setup()
    return [vocab[i] for i in datamodule.test_set.ids.tolist()]


@pytest.fixture(scope="module")
def seed_tokens(stream) -> list[str]:
    return stream[20:120]  # the lab's 100-token seed; the tiny model's window is 8 tokens


@pytest.fixture(scope="module")
def lab_tokens(predict, seed_tokens) -> list[str]:
    return predict(seed_tokens)


def test_predict_notes_returns_the_seed_and_500_new_tokens(vocab, seed_tokens, lab_tokens):
    assert len(lab_tokens) == 600
    assert lab_tokens[:100] == seed_tokens
    assert set(lab_tokens) <= set(vocab)


def test_generation_needs_nothing_patched_onto_the_network(model, vocab, seed_tokens):
    """The record gives the vocabulary and window; the network is a plain MozartLSTM."""
    assert type(model) is MozartLSTM and not hasattr(model, "vocab") and not model.training
    assert predict_notes(model, vocab, seed_tokens[-8:], 3)[:8] == seed_tokens[-8:]


def test_seed_as_ids_equals_seed_as_strings(seed_tokens, predict, vocab):
    ids = [vocab.index(token) for token in seed_tokens]
    assert predict(ids, 30) == predict(seed_tokens, 30)


def test_same_seed_gives_the_same_piece_and_another_seed_another(seed_tokens, predict):
    options = {"n_notes": 60, "sampler": Sampler("temperature", 2.0)}
    first = predict(seed_tokens, seed=1, **options)
    assert first == predict(seed_tokens, seed=1, **options)
    assert first != predict(seed_tokens, seed=2, **options)


def test_argmax_equals_temperature_towards_zero(seed_tokens, lab_tokens, predict):
    # 1e-300, not 1e-6: two float32 log-probs one rounding step apart (~1e-7) would be a coin toss at 1e-6, and
    # where such near ties fall depends on the CPU's kernels; at 1e-300 any gap at all decides
    cold = predict(seed_tokens, sampler=Sampler("temperature", 1e-300))
    hot = predict(seed_tokens, sampler=Sampler("temperature", 3.0))
    assert cold == lab_tokens
    assert hot != lab_tokens  # the comparison can tell sampling from argmax


@pytest.mark.parametrize("cut", [{"top_k": 1}, {"top_p": 1e-9}])
def test_keeping_only_the_likeliest_token_equals_argmax(seed_tokens, lab_tokens, cut, predict):
    assert predict(seed_tokens, sampler=Sampler("temperature", 3.0, **cut)) == lab_tokens


def test_repetition_penalty_turns_argmax_away_from_a_seen_token():
    log_probs = torch.tensor([[0.5, 0.3, 0.2]]).log()
    recent = torch.tensor([[0, 2]])
    generator = torch.Generator()
    assert Sampler().choose(log_probs, recent, generator).item() == 0
    # 0.5 ** 2 = 0.25 < 0.3: the seen token 0 loses to the unseen token 1
    assert Sampler(repetition_penalty=2.0).choose(log_probs, recent, generator).item() == 1


def test_top_p_samples_only_from_the_nucleus():
    probs = torch.tensor([[0.05, 0.6, 0.3, 0.05]]).repeat(2000, 1)
    sampler = Sampler(sampling="temperature", top_p=0.8)
    drawn = sampler.choose(probs.log(), probs.long()[:, :1], torch.Generator().manual_seed(0))
    assert set(drawn.tolist()) == {1, 2}


class NoFloatCumsum(torch.overrides.TorchFunctionMode):
    """CUDA's rule under torch.use_deterministic_algorithms(True), on any device: a float cumsum raises."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in (torch.cumsum, torch.Tensor.cumsum) and args[0].is_floating_point():
            raise RuntimeError("cumsum_cuda_kernel does not have a deterministic implementation")
        return func(*args, **(kwargs or {}))


def test_top_p_is_deterministic_safe():
    """trainer.deterministic=true with a top-p audio sampler: sampling must not need a float cumsum."""
    probs = torch.tensor([[0.05, 0.6, 0.3, 0.05], [0.45, 0.05, 0.05, 0.45]]).repeat(500, 1)
    sampler = Sampler(sampling="temperature", top_p=0.8)
    was = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        with NoFloatCumsum():
            drawn = sampler.choose(probs.log(), probs.long()[:, :1], torch.Generator().manual_seed(0))
    finally:
        torch.use_deterministic_algorithms(was)
    assert set(drawn[0::2].tolist()) == {1, 2}
    assert set(drawn[1::2].tolist()) == {0, 3}  # the tied pair is the nucleus


def test_stateful_first_prediction_equals_the_windowed_one(seed_tokens, predict):
    window = predict(seed_tokens, 1, mode="window")
    stateful = predict(seed_tokens, 1, mode="stateful")
    assert stateful == window


# A stateful step (models/network.py's written-out step) and a pass over a window run other kernels than the
# fused LSTM, so the same log-probs can differ in their last bits: where two tokens are that close, either is the
# argmax. The checks below ask that a chosen token be the likeliest to within this, not bitwise the same.
ROUNDING = 1e-4


def likeliest(log_probs: torch.Tensor, token: int) -> bool:
    """Whether `token` is the argmax of the row `log_probs`, up to rounding."""
    return bool(log_probs[token] >= log_probs.max() - ROUNDING)


def test_stateful_carries_the_state_of_the_whole_piece(model, seed_tokens, vocab, ckpt):
    """Stateful token k is the argmax after one LSTM pass over everything since the seed window began."""
    window = ckpt.data_settings["seq_len"]
    seed_ids = torch.tensor([[vocab.index(t) for t in seed_tokens]])
    ids = generate_ids(model, seed_ids, 12, mode="stateful", window=window)
    begin = 100 - window
    with torch.inference_mode():
        for k in range(100, 112):
            assert likeliest(model(ids[:, begin:k])[0][0], ids[0, k].item()), k


@pytest.mark.parametrize("mode", ["window", "stateful"])
def test_a_batch_equals_its_samples_generated_alone(model, stream, mode, vocab):
    """Each row of a batch continues as that row would alone: every token it chose is what the network, given
    that row alone, finds likeliest (up to rounding: other batch sizes may run other kernels)."""
    window = 8
    seeds = torch.tensor([[vocab.index(t) for t in stream[s : s + window]] for s in (0, 30, 60)])
    batch = generate_ids(model, seeds, 20, mode=mode)
    with torch.inference_mode():
        for row in batch:
            log_probs, hidden = model(row[None, :window])
            for k in range(window, len(row)):
                assert likeliest(log_probs[0], row[k].item()), (mode, k)
                if mode == "window":
                    log_probs, _ = model(row[None, k + 1 - window : k + 1])
                else:
                    log_probs, hidden = model(row[None, k : k + 1], hidden)


@pytest.mark.parametrize("bad", [{"n_notes": 0}, {"mode": "lstm"}])
def test_bad_run_options_name_the_key(seed_tokens, bad, predict):
    key = next(iter(bad))
    with pytest.raises(ValueError, match=key):
        predict(seed_tokens, **{"n_notes": 5, **bad})


@pytest.mark.parametrize(
    ("settings", "bad"),
    [
        (Sampler, {"sampling": "beam"}),
        (Sampler, {"top_p": 2.0}),
        (Sampler, {"temperature": 0}),
        (Rhythm, {"offset": "swing"}),
        (Rhythm, {"duration_value": -1}),
    ],
)
def test_a_bad_field_is_one_setting_error_starting_with_its_key(settings, bad):
    [(key, value)] = bad.items()
    with pytest.raises(SettingError, match=rf"^{key}={value!r}: must be"):
        settings(**bad)


def reparse(path) -> list:
    return list(converter.parse(path).flatten().notes)


def test_midi_round_trip_gives_back_the_600_tokens(lab_tokens, tmp_path):
    """MIDI stores key numbers, not spellings (music21 writes D#5 back as E-5), so pitches compare as MIDI numbers."""
    path = write_midi(PITCH.decode(lab_tokens), tmp_path / "mozart.mid")
    elements = reparse(path)
    assert len(elements) == 600
    assert [sorted(p.midi for p in e.pitches) for e in elements] == [sorted(PITCH.pitches(t)) for t in lab_tokens]
    assert [float(e.offset) for e in elements] == [0.5 * i for i in range(600)]


def test_round_trip_keeps_chords_of_repeated_pitches_and_re_spells(tmp_path):
    tokens = ["D#5", "B3.B3", "C4.E4.G4", "E-5", "E5", "E5", "B-1.F2"]
    elements = reparse(write_midi(PITCH.decode(tokens, Rhythm(offset_step=0.25)), tmp_path / "chords.mid"))
    assert [[p.nameWithOctave for p in e.pitches] for e in elements] == [
        ["E-5"], ["B3", "B3"], ["C4", "E4", "G4"], ["E-5"], ["E5"], ["E5"], ["B-1", "F2"]
    ]  # fmt: skip
    assert [float(e.offset) for e in elements] == [0.25 * i for i in range(7)]
    assert {float(e.quarterLength) for e in elements} == {0.25}


def test_lab_durations_are_quarter_notes_every_eighth():
    timing = make_timing(4, Rhythm(offset_step=0.5, duration_value=1.0))
    assert timing.offsets.tolist() == [0.0, 0.5, 1.0, 1.5]
    assert timing.durations.tolist() == [1.0] * 4


RHYTHM = {
    "offset_gaps": {"values": [0.0, 0.25, 0.5, 1.0], "probs": [0.1, 0.4, 0.3, 0.2]},
    "durations": {"values": [0.0, 0.5, 2.0], "probs": [0.2, 0.5, 0.3]},
}


def test_empirical_rhythm_reproduces_the_distribution():
    timing = make_timing(5000, Rhythm("empirical", duration="empirical"), corpus=RHYTHM, seed=3)
    gaps, counts = np.unique(np.diff(timing.offsets), return_counts=True)
    assert gaps.tolist() == RHYTHM["offset_gaps"]["values"]  # 0.0 included: simultaneous notes
    assert counts / counts.sum() == pytest.approx(RHYTHM["offset_gaps"]["probs"], abs=0.03)
    lengths, counts = np.unique(timing.durations, return_counts=True)
    assert lengths.tolist() == [0.5, 2.0]  # zero-length grace notes are left out
    assert counts / counts.sum() == pytest.approx([0.625, 0.375], abs=0.03)


def test_empirical_offsets_from_the_checkpoint_stay_on_its_support(ckpt):
    support = ckpt.rhythm["offset_gaps"]["values"]
    likely = {v for v, p in zip(support, ckpt.rhythm["offset_gaps"]["probs"], strict=True) if p > 0.01}
    gaps = set(np.diff(make_timing(3000, Rhythm("empirical"), corpus=ckpt.rhythm).offsets).tolist())
    assert likely <= gaps <= set(support)


def test_empirical_rhythm_needs_a_distribution():
    with pytest.raises(ValueError, match="empirical"):
        make_timing(10, Rhythm("empirical"), corpus=None)


def test_wav_rate_length_peak_and_determinism(lab_tokens, tmp_path):
    events = PITCH.events(lab_tokens, make_timing(600))
    audio = render(events, 22050, bpm=120)
    assert np.array_equal(audio, render(events, 22050, bpm=120))
    rate, pcm = wavfile.read(write_wav(tmp_path / "mozart.wav", audio, 22050))
    assert rate == 22050
    # 600 tokens, 0.5 quarter apart, the last lasting 0.5: 300 quarters of 0.5 s at 120 bpm, then the release
    assert len(pcm) == pytest.approx((150 + TAIL_S) * 22050, abs=1)
    peak = np.abs(pcm.astype(np.int64)).max() / 32768
    assert 0.85 < peak <= 1.0


@pytest.mark.parametrize("token, hertz", [("A4", 440.0), ("C4", 261.6), ("A2", 110.0)])
def test_synth_plays_the_token_pitch(token, hertz):
    audio = render(PITCH.decode([token], Rhythm(duration_value=2.0)), 22050)
    spectrum = np.abs(np.fft.rfft(audio))
    peak = np.fft.rfftfreq(len(audio), 1 / 22050)[spectrum.argmax()]
    assert peak == pytest.approx(hertz, rel=0.01)


def test_piano_roll_shows_seed_and_generated_parts(lab_tokens, tmp_path):
    path = save_piano_roll(tmp_path / "piano_roll.png", PITCH.decode(lab_tokens), 100)
    assert path.stat().st_size > 10_000
    pixels = imread(path)[..., :3]
    for colour in (SEED_COLOUR, NEW_COLOUR):
        rgb = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
        assert (np.abs(pixels - rgb).max(axis=-1) < 0.02).sum() > 50, colour
