"""mozart.wav through a General MIDI piano: FluidSynth (Debian's `fluidsynth`) plays the piece with a soundfont,
TimGM6mb.sf2 (shipped with pretty_midi) unless `soundfont=PATH` names another. Where FluidSynth cannot play (it is
not installed, the soundfont is missing or not a soundfont, it fails), the built-in synth (synth.py) plays instead;
either way one line says which renderer played and why.
"""

import importlib.util
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.io import wavfile

from mozart_lstm.composing.midi_file import write_midi
from mozart_lstm.composing.synth import PEAK, render, write_wav
from mozart_lstm.notes import NoteEvent

AUTO = "auto"  # the bundled soundfont where FluidSynth is installed, else the built-in synth
BUILTIN = "builtin"  # the built-in synth, by choice
BUNDLED = "TimGM6mb.sf2"
INSTALL_HINT = "apt-get install fluidsynth"
# FluidSynth renders far faster than real time (a 500-token piece: about a second); this bounds a hung process
SECONDS_PER_QUARTER_LIMIT = 1.0
MIN_TIMEOUT_S = 60.0


class CannotPlay(Exception):
    """Why FluidSynth did not play the piece, in a few words."""


def bundled_soundfont() -> Path | None:
    """pretty_midi's General MIDI soundfont, found without importing pretty_midi."""
    spec = importlib.util.find_spec("pretty_midi")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / BUNDLED
    return path if path.is_file() else None


def is_soundfont(path: Path) -> bool:
    """A SoundFont 2 file is a RIFF file of form `sfbk`."""
    with open(path, "rb") as file:
        head = file.read(12)
    return head[:4] == b"RIFF" and head[8:12] == b"sfbk"


def chosen_soundfont(soundfont: str | None) -> Path:
    """The soundfont `soundfont=` names (auto: the bundled one), or CannotPlay saying why there is none."""
    if soundfont in (None, BUILTIN):
        raise CannotPlay(f"soundfont={soundfont or 'null'}")
    if soundfont == AUTO:
        found = bundled_soundfont()
        if found is None:
            raise CannotPlay(f"no soundfont: pretty_midi's {BUNDLED} is not installed; pass soundfont=PATH")
        return found
    path = Path(str(soundfont)).expanduser()
    if not path.is_file():
        raise CannotPlay(f"soundfont={soundfont}: no such file; pass a .sf2 file")
    if not is_soundfont(path):
        raise CannotPlay(f"soundfont={soundfont}: not a SoundFont 2 file (.sf2)")
    return path


def fluidsynth_audio(events: Sequence[NoteEvent], soundfont: Path, sample_rate: int, bpm: float) -> np.ndarray:
    """The piece as FluidSynth plays it with `soundfont`: a float signal (stereo) peak-normalised as the built-in
    synth's is. Raises CannotPlay."""
    binary = shutil.which("fluidsynth")
    if binary is None:
        raise CannotPlay(f"FluidSynth is not installed ({INSTALL_HINT})")
    quarters = max((e.offset + e.duration for e in events), default=0.0)
    timeout = max(MIN_TIMEOUT_S, quarters * SECONDS_PER_QUARTER_LIMIT)
    with tempfile.TemporaryDirectory(prefix="mozart-wav-") as scratch:
        midi, wav = Path(scratch) / "piece.mid", Path(scratch) / "piece.wav"
        write_midi(events, midi, bpm=bpm)
        command = [binary, "-ni", "-q", "-F", str(wav), "-r", str(sample_rate), "-g", "1.0", str(soundfont), str(midi)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise CannotPlay(f"FluidSynth took more than {timeout:.0f} s") from None
        if done.returncode or not wav.is_file():
            said = (done.stderr or done.stdout).strip().splitlines()
            raise CannotPlay(f"FluidSynth failed ({said[0] if said else f'exit {done.returncode}'})")
        _, pcm = wavfile.read(wav)
    peak = float(np.abs(pcm.astype(np.float64)).max(initial=0.0))
    if peak == 0.0:
        raise CannotPlay(f"FluidSynth played silence with {soundfont.name}")
    return (pcm.astype(np.float64) * (PEAK / peak)).astype(np.float32)


def write_piano_wav(path, events: Sequence[NoteEvent], soundfont: str | None, sample_rate: int, bpm: float) -> str:
    """Write the events as a WAV at `path`, through FluidSynth where it can play, else the built-in synth; return
    what played, and why for the built-in synth."""
    try:
        font = chosen_soundfont(soundfont)
        write_wav(path, fluidsynth_audio(events, font, sample_rate, bpm), sample_rate)
        return f"FluidSynth played it with the soundfont {font}"
    except CannotPlay as why:
        write_wav(path, render(events, sample_rate, bpm), sample_rate)
        return f"the built-in synth played it ({why}); FluidSynth and a piano soundfont: docs/generating.md"
