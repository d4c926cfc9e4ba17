"""The long-range figures (judging/long_range.py) of Mozart's sonatas, and beside them a generate.py run's pieces.

    python bench/long_range.py ARCHIVE [CACHE_DIR] [--report outputs/generate/<run>/music_report.json] [--tokens 500]

Mozart's side: every whole stretch of TOKENS tokens of each sonata, at the corpus's real offsets, as the music
report's reference cuts them. The report's side: its generated pieces (the seed left out). Mean ± sd per figure,
and for the bass loop the largest and the share of pieces with a loop of LOOP_BARS bars or more.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from mozart_lstm.data import load_pieces
from mozart_lstm.judging.long_range import long_range
from mozart_lstm.judging.onsets import onsets
from mozart_lstm.notes import Timing
from mozart_lstm.tokenizers import build_tokenizer

NAMES = ("key_changes", "keys_per_32_bars", "longest_bass_loop", "repeated_bass", "both_hands")
LOOP_BARS = 8  # issue 35's loop


def mozart_rows(archive: str, cache_dir: str, tokens: int) -> list[dict]:
    tokenizer = build_tokenizer("pitch")
    rows = []
    for piece in load_pieces(archive, tokenizer, cache_dir, num_workers=1, data_dir=Path(cache_dir) / "data"):
        for at in range(0, len(piece.tokens) - tokens + 1, tokens):
            offsets = np.asarray(piece.offsets[at : at + tokens])
            timing = Timing(offsets - offsets[0], np.asarray(piece.durations[at : at + tokens]))
            rows.append(long_range(onsets(tokenizer.events(piece.tokens[at : at + tokens], timing))))
    return rows


def summary(rows: list[dict]) -> list[str]:
    cells = []
    for name in NAMES:
        values = np.array([row[name] for row in rows if row.get(name) is not None], dtype=float)
        cells.append(f"{values.mean():.3f} ± {values.std():.3f} (n={len(values)})" if len(values) else "-")
    loops = [row["longest_bass_loop"] for row in rows if row.get("longest_bass_loop") is not None]
    cells.append(f"{max(loops)}, {np.mean([loop >= LOOP_BARS for loop in loops]):.0%}" if loops else "-")
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive")
    parser.add_argument("cache_dir", nargs="?", default="outputs/cache")
    parser.add_argument("--report", help="a music_report.json whose generated pieces go beside Mozart's")
    parser.add_argument("--tokens", type=int, default=500)
    args = parser.parse_args()
    rows = {
        f"Mozart, {args.tokens}-token stretches of the 20 sonatas": mozart_rows(
            args.archive, args.cache_dir, args.tokens
        )
    }
    if args.report:
        rows[f"generated ({args.report})"] = json.loads(Path(args.report).read_text())["samples"]
    header = ["music", *NAMES, f"longest loop, share >= {LOOP_BARS} bars"]
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for label, found in rows.items():
        print("| " + " | ".join([label, *summary(found)]) + " |")


if __name__ == "__main__":
    main()
