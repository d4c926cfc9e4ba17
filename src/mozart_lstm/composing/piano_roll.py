"""A piano roll of a generated piece: time across, pitch up, the seed in grey and the new part in colour."""

from pathlib import Path

# A bare Figure renders with Agg and never touches pyplot's global backend or opens a window.
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from labtools.fileio import atomic_path
from mozart_lstm.notes import pitch_name

SEED_COLOUR = "#8c8c8c"
NEW_COLOUR = "#1f5fa8"
BLACK_KEYS = {1, 3, 6, 8, 10}  # pitch classes shaded like a piano's black keys


def plot_piano_roll(events, n_seed: int, title: str = "") -> Figure:
    """Draw `events` (`.offset`, `.duration` in quarter lengths, `.pitches` as MIDI numbers); the first
    `n_seed` are the seed window."""
    fig = Figure(figsize=(14, 5), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    for part, colour in ((events[:n_seed], SEED_COLOUR), (events[n_seed:], NEW_COLOUR)):
        by_pitch: dict[int, list[tuple[float, float]]] = {}
        for event in part:
            for midi in set(event.pitches):
                by_pitch.setdefault(midi, []).append((event.offset, event.duration))
        for midi, bars in by_pitch.items():
            ax.broken_barh(bars, (midi - 0.4, 0.8), facecolors=colour, linewidth=0)
    if 0 < n_seed < len(events):
        ax.axvline(events[n_seed].offset, color="#c0392b", linewidth=1.2, linestyle="--", zorder=3)
    pitches = [midi for event in events for midi in event.pitches]
    if pitches:
        low, high = min(pitches), max(pitches)
        ax.set_ylim(low - 1.5, high + 1.5)
        c_notes = [m for m in range(low - low % 12, high + 1, 12) if m >= low - 1]
        ax.set_yticks(c_notes, [pitch_name(m) for m in c_notes])
        for midi in range(low - 1, high + 2):
            if midi % 12 in BLACK_KEYS:
                ax.axhspan(midi - 0.5, midi + 0.5, color="#f2f2f2", linewidth=0, zorder=0)
        ax.grid(axis="y", which="major", color="#dddddd", linewidth=0.8)
        ax.set_xlim(0, max(e.offset + e.duration for e in events))
    ax.set_xlabel("time (quarter notes)")
    ax.set_ylabel("pitch")
    ax.set_title(title, loc="left")
    ax.legend(
        handles=[
            Patch(color=SEED_COLOUR, label="seed (a test window or the primer)"),
            Patch(color=NEW_COLOUR, label="generated"),
        ],
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncols=2,
        frameon=False,
        fontsize="small",
    )
    return fig


def save_piano_roll(path, events, n_seed: int, title: str = "") -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        plot_piano_roll(events, n_seed, title).savefig(tmp, format="png")
    return path
