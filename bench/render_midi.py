"""A MIDI file through FluidSynth and a General MIDI piano, as generate.py renders mozart.wav, mixed to mono.

    python bench/render_midi.py docs/audio/recipe_seed0.mid docs/audio/recipe_seed0.wav [SAMPLE_RATE] [SOUNDFONT]

For the WAVs under docs/: a mono file at 11025 Hz is a quarter of generate.py's stereo 22050 Hz one.
"""

import sys
from pathlib import Path

from mozart_lstm.composing.piano_sound import AUTO, chosen_soundfont, fluidsynth_audio
from mozart_lstm.composing.synth import write_wav
from mozart_lstm.data import tokenize_file
from mozart_lstm.notes import Timing
from mozart_lstm.tokenizers import build_tokenizer


def main(midi: str, wav: str, sample_rate: str = "11025", soundfont: str = AUTO) -> None:
    piece = tokenize_file(midi)
    events = build_tokenizer("pitch").events(piece.tokens, Timing(piece.offsets, piece.durations))
    font = chosen_soundfont(soundfont)
    audio = fluidsynth_audio(events, font, int(sample_rate), bpm=120.0)
    write_wav(wav, audio.mean(axis=1) if audio.ndim == 2 else audio, int(sample_rate))
    print(f"{wav}: {Path(midi).name} played by FluidSynth with {font.name}, mono, {sample_rate} Hz")


if __name__ == "__main__":
    main(*sys.argv[1:])
