"""Where a cold parse spends its time: one file through the project's tokenizer under cProfile."""

import cProfile
import pstats

from mozart_lstm.data.tokenize import tokenize_file

# What music21's MIDI reader does after reading the notes: the notation a score needs (measures, voices,
# ties across bar lines, rests, the conductor's meter and tempo marks in every part).
NOTATION_STEPS = ("insertConductorEvents", "makeMeasures", "makeVoices", "makeTies", "makeRests")


def parse_profile(path) -> dict:
    """Seconds of one `tokenize_file(path)` under the profiler, and the share spent in each notation step
    called by music21's `midiTrackToStream` (the remainder reads the file, builds notes and quantizes)."""
    profiler = cProfile.Profile()
    profiler.runcall(tokenize_file, path)
    stats = pstats.Stats(profiler).stats
    total = max(ct for _, _, _, ct, _ in stats.values())
    steps = dict.fromkeys(NOTATION_STEPS, 0.0)
    for (_, _, name), (_, _, _, _, callers) in stats.items():
        if name in steps:
            steps[name] += sum(ct for (_, _, caller), (_, _, _, ct) in callers.items() if caller == "midiTrackToStream")
    return {"file": path.name, "profiled_s": total, "notation_share": {k: v / total for k, v in steps.items()}}
