"""mozart.wav through FluidSynth and a General MIDI piano soundfont, and the built-in synth wherever FluidSynth
cannot play, with one line saying which played. CI installs FluidSynth (.ci/run), so there the real path runs."""

import logging
import os
import shutil

import numpy as np
import pytest
from scipy.io import wavfile

from mozart_lstm.composing import piano_sound
from mozart_lstm.composing.piano_sound import bundled_soundfont, is_soundfont, write_piano_wav
from mozart_lstm.notes import NoteEvent

HAS_FLUIDSYNTH = shutil.which("fluidsynth") is not None
needs_fluidsynth = pytest.mark.skipif(
    not HAS_FLUIDSYNTH and os.environ.get("CI") != "true",  # in CI a missing FluidSynth fails instead
    reason="FluidSynth is not installed (apt-get install fluidsynth)",
)
A4 = [NoteEvent(0.0, 2.0, (69,))]
PHRASE = [NoteEvent(0.5 * i, 0.5, (60 + i % 8,)) for i in range(16)] + [NoteEvent(8.0, 2.0, (48, 52, 55))]


def peak_frequency(audio: np.ndarray, rate: int) -> float:
    mono = audio.mean(axis=1) if audio.ndim == 2 else audio
    spectrum = np.abs(np.fft.rfft(mono))
    return float(np.fft.rfftfreq(len(mono), 1 / rate)[spectrum.argmax()])


def test_pretty_midi_ships_a_soundfont():
    assert bundled_soundfont() is not None and is_soundfont(bundled_soundfont())


@needs_fluidsynth
def test_fluidsynth_plays_the_piece_on_a_piano_at_the_tempo_asked(tmp_path):
    said = write_piano_wav(tmp_path / "a.wav", A4, "auto", 22050, 120.0)
    assert said.startswith("FluidSynth played it with the soundfont") and said.endswith("TimGM6mb.sf2")
    rate, pcm = wavfile.read(tmp_path / "a.wav")
    assert rate == 22050 and pcm.ndim == 2  # the soundfont's stereo
    assert np.abs(pcm).max() / 32767 == pytest.approx(0.9, abs=0.01)  # peak-normalised as the built-in synth
    assert peak_frequency(pcm.astype(float), rate) == pytest.approx(440.0, rel=0.02)
    write_piano_wav(tmp_path / "fast.wav", PHRASE, "auto", 22050, 120.0)
    write_piano_wav(tmp_path / "slow.wav", PHRASE, "auto", 22050, 60.0)
    fast, slow = (len(wavfile.read(tmp_path / name)[1]) for name in ("fast.wav", "slow.wav"))
    assert 1.6 < slow / fast < 2.1  # 10 quarters at 60 bpm last twice as long, less the same release


@pytest.mark.parametrize(
    ("soundfont", "why"),
    [
        ("builtin", "soundfont=builtin"),
        (None, "soundfont=null"),
        ("{tmp}/missing.sf2", "missing.sf2: no such file"),
        ("{tmp}/text.sf2", "text.sf2: not a SoundFont 2 file"),
    ],
)
def test_without_a_usable_soundfont_the_builtin_synth_plays_and_says_why(tmp_path, soundfont, why):
    (tmp_path / "text.sf2").write_text("not a soundfont")
    soundfont = soundfont and soundfont.format(tmp=tmp_path)
    said = write_piano_wav(tmp_path / "a.wav", A4, soundfont, 22050, 120.0)
    assert said.startswith("the built-in synth played it") and why in said
    rate, pcm = wavfile.read(tmp_path / "a.wav")
    assert pcm.ndim == 1 and peak_frequency(pcm.astype(float), rate) == pytest.approx(440.0, rel=0.02)


def test_without_fluidsynth_installed_the_line_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(piano_sound.shutil, "which", lambda name: None)
    said = write_piano_wav(tmp_path / "a.wav", A4, "auto", 22050, 120.0)
    assert "FluidSynth is not installed (apt-get install fluidsynth)" in said
    assert (tmp_path / "a.wav").stat().st_size > 1000


def test_a_fluidsynth_that_fails_leaves_the_builtin_synth_to_play(tmp_path, monkeypatch):
    broken = tmp_path / "fluidsynth"
    broken.write_text("#!/bin/sh\necho 'fluidsynth: error: no audio' >&2\nexit 3\n")
    broken.chmod(0o755)
    monkeypatch.setattr(piano_sound.shutil, "which", lambda name: str(broken))
    said = write_piano_wav(tmp_path / "a.wav", A4, "auto", 22050, 120.0)
    assert "FluidSynth failed (fluidsynth: error: no audio)" in said


def test_generate_says_once_which_renderer_played(compose_cfg, tiny_ckpt, tmp_path, caplog, single_torch_thread):
    from mozart_lstm.generate import run

    overrides = [f"ckpt={tiny_ckpt}", f"paths.output_dir={tmp_path}", "n_notes=20", "num_samples=2", "judge_pieces=0"]
    with caplog.at_level(logging.INFO, logger="mozart_lstm.generate"):
        run(compose_cfg("generate", [*overrides, "piano_roll=false"]))
    lines = [r.getMessage() for r in caplog.records if "played it" in r.getMessage()]
    expected = "FluidSynth played it" if HAS_FLUIDSYNTH else "the built-in synth played it"
    assert len(lines) == 1 and lines[0].startswith(f"mozart_0.wav: {expected}")
    assert (tmp_path / "mozart_1.wav").is_file()
