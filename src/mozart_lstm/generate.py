"""`python generate.py [ckpt=...]`: compose with a trained model, write MIDI, WAV and a piano roll, and judge the
music against Mozart's held-out sonatas. Without ckpt, the newest run's best.ckpt under outputs/train/ (else its
last.ckpt) (newest_run.py).

`run` reads top to bottom: compose, write, judge. The vocabulary, tokenizer, data settings and corpus rhythm come
from the checkpoint; the test split is rebuilt from the saved data settings (the token cache makes that a read,
not a re-parse) and the seed windows are drawn from it, unless primer=path.mid gives the seed
(composing/primer.py). composer= says who composes (composing/composers.py).
"""

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from omegaconf import DictConfig

from labtools.checks import MAX_SEED, is_positive, is_seed, is_whole
from labtools.errors import UserError
from mozart_lstm.baselines.ngram import check_order
from mozart_lstm.composing.budget import check_fits, check_fits_on_device
from mozart_lstm.composing.composers import COMPOSERS, MOZART, check_mozart_split, compose, made_by
from mozart_lstm.composing.held_out import mozart_stretches, training_grams
from mozart_lstm.composing.midi_file import write_midi
from mozart_lstm.composing.piano_roll import save_piano_roll
from mozart_lstm.composing.piano_sound import write_piano_wav
from mozart_lstm.composing.primer import check_primer, primer_seeds, read_primer
from mozart_lstm.composing.sampler_choice import AUTO_MODE, CalibratedSampler, choose_sampler
from mozart_lstm.composing.sampling import MODES, Sampler, check_run
from mozart_lstm.composing.seeds import seed_windows
from mozart_lstm.config import instantiate
from mozart_lstm.judging.judge import judge
from mozart_lstm.judging.report import MusicReport, write_report
from mozart_lstm.judging.summary import format_report
from mozart_lstm.legacy import check_moved
from mozart_lstm.models.precision import set_cudnn_tf32
from mozart_lstm.newest_run import newest_checkpoint
from mozart_lstm.notes import NoteEvent
from mozart_lstm.tokenizers import Rhythm

log = logging.getLogger(__name__)


def build_options(cfg: DictConfig) -> tuple[Sampler | CalibratedSampler, Rhythm]:
    """The sampler and rhythm of conf/sampler/ and conf/rhythm/, built once; a bad field is one UserError.
    `sampler=calibrated` (the default) stays a CalibratedSampler until the checkpoint says what was calibrated."""
    return instantiate(cfg.sampler, "sampler"), instantiate(cfg.rhythm, "rhythm")


def option_settings(sampler: Sampler, rhythm: Rhythm) -> dict:
    """The options as the overrides that set them (sampler=temperature, sampler.top_p=0.9, rhythm.offset=auto),
    so that a row of the multirun table can be copied onto the command line."""
    fields = {f"sampler.{key}": value for key, value in vars(sampler).items() if key != "sampling"}
    return {"sampler": sampler.sampling} | fields | {f"rhythm.{key}": value for key, value in vars(rhythm).items()}


def check_config(cfg: DictConfig) -> tuple[Sampler | CalibratedSampler, Rhythm]:
    """Every option is checked before the checkpoint is read; each message names its key. Returns the built
    sampler and rhythm."""
    check_moved(cfg)
    for key in ("num_samples", "sample_rate"):
        if not is_whole(cfg[key]):
            raise UserError(f"{key}={cfg[key]!r}: must be a whole number >= 1")
    if not is_whole(cfg.judge_pieces, minimum=0):
        raise UserError(f"judge_pieces={cfg.judge_pieces!r}: must be a whole number >= 0 (0: num_samples only)")
    if not is_whole(cfg.reference_size, minimum=0):
        raise UserError(f"reference_size={cfg.reference_size!r}: must be a whole number >= 0 (0: no reference)")
    if not is_positive(cfg.bpm):
        raise UserError(f"bpm={cfg.bpm!r}: must be a finite number > 0")
    if not is_seed(cfg.seed):
        raise UserError(f"seed={cfg.seed!r}: must be a whole number in [0, {MAX_SEED}]")
    if cfg.composer not in COMPOSERS:
        raise UserError(f"composer={cfg.composer!r}: must be one of {', '.join(COMPOSERS)}")
    if cfg.ngram_order is not None:
        check_order(cfg.ngram_order, "ngram_order")
    if cfg.primer not in (None, "") and cfg.composer == MOZART:
        raise UserError("primer= is continued by a model, and composer=mozart plays Mozart's own: use network or ngram")
    modes = (AUTO_MODE, *MODES)
    if cfg.mode not in modes:
        raise UserError(f"mode={cfg.mode!r}: must be one of {', '.join(modes)}")
    try:
        check_run(cfg.n_notes, MODES[0] if cfg.mode == AUTO_MODE else cfg.mode)
    except ValueError as err:
        raise UserError(str(err)) from None
    return build_options(cfg)


def pick_device(name: str) -> torch.device:
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise UserError(f"device={name!r}: not a torch device (cpu, cuda, cuda:1, mps)") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device={name!r}: no CUDA GPU is visible here; use device=cpu")
    count = torch.cuda.device_count()
    if device.type == "cuda" and device.index is not None and device.index >= count:
        raise UserError(f"device={name!r}: this machine has {count} CUDA GPU(s), cuda:0 to cuda:{count - 1}")
    return device


def rebuild_data(ckpt):
    """The training run's data module, rebuilt from the data settings of `ckpt` (a CheckpointData)."""
    from mozart_lstm.data import MidiDataModule  # imports Lightning: slow, so after the quick checks

    if not ckpt.data_settings:
        raise UserError(f"{ckpt.path}: holds no data settings, so its test split cannot be rebuilt")
    datamodule = MidiDataModule(**ckpt.data_settings)
    datamodule.setup("fit")
    rebuilt, saved = len(datamodule.vocab), len(ckpt.vocab)
    if list(datamodule.vocab.tokens) != ckpt.vocab:
        differ = f"{rebuilt} tokens, not {saved}" if rebuilt != saved else f"other tokens than its {saved}"
        raise UserError(
            f"{ckpt.path}: the data rebuilt from its settings has {differ}: "
            "the corpus, its token cache or the settings changed since training"
        )
    return datamodule


def output_paths(out: Path, index: int, count: int) -> dict[str, Path]:
    """mozart.mid, mozart.wav, mozart_piano_roll.png; with several samples mozart_0.mid, mozart_0_piano_roll.png,
    ... Every name starts with out's, so two runs that write into one folder under other names keep their files."""
    suffix = f"_{index}" if count > 1 else ""
    stem = out.with_suffix("").name
    return {
        "midi": out.with_name(f"{stem}{suffix}{out.suffix or '.mid'}"),
        "wav": out.with_name(f"{stem}{suffix}.wav"),
        "piano_roll": out.with_name(f"{stem}{suffix}_piano_roll.png"),
    }


def chosen_checkpoint(cfg: DictConfig) -> str:
    """cfg.ckpt, or when it is not given the newest training run's best.ckpt (else last.ckpt), said in the log."""
    if cfg.ckpt not in (None, ""):
        return str(cfg.ckpt)
    newest = newest_checkpoint()
    log.info("ckpt= not given: composing with the newest run's %s", newest)
    return str(newest)


@dataclass
class Composition:
    """What a run composed: every piece's tokens and notes (seed first), and what made them."""

    tokens: list[list[str]]
    events: list[list[NoteEvent]]
    n_seed: int  # the seed's (or primer's) tokens at the start of every piece
    made: str  # what the piano roll's title says of the pieces


def compose_pieces(cfg, ckpt, model, datamodule, sampler, mode: str, rhythm: Rhythm, primed, device) -> Composition:
    """The run's pieces, as many as the judge wants (the first num_samples are written), decoded by the
    checkpoint's tokenizer."""
    vocab, tokenizer = ckpt.vocab, datamodule.tokenizer
    composed = max(cfg.num_samples, cfg.judge_pieces)
    seeds = primer_seeds(primed, vocab, composed) if primed else seed_windows(datamodule.test_set, composed, cfg.seed)
    ids = compose(cfg, model, datamodule, seeds, sampler, mode, ckpt.data_settings.get("seq_len", 0), device)
    tokens = [[vocab[i] for i in row] for row in ids.tolist()]
    events = [tokenizer.decode(piece, rhythm, ckpt.rhythm, cfg.seed + k) for k, piece in enumerate(tokens)]
    n_seed = seeds.shape[1]
    made = f"{n_seed} {'primer' if primed else 'seed'} tokens + {cfg.n_notes} {made_by(cfg.composer, sampler)}"
    return Composition(tokens, events, n_seed, made)


def write_pieces(cfg, composition: Composition) -> list[dict]:
    """mozart.mid (and .wav, _piano_roll.png) for each of the first num_samples pieces; their tokens and paths."""
    out = Path(cfg.paths.output_dir) / cfg.out
    results, renderers = [], set()
    for k, (tokens, events) in enumerate(zip(composition.tokens[: cfg.num_samples], composition.events, strict=False)):
        paths = output_paths(out, k, cfg.num_samples)
        write_midi(events, paths["midi"])
        if cfg.wav:
            played = write_piano_wav(paths["wav"], events, cfg.soundfont, cfg.sample_rate, cfg.bpm)
            if played not in renderers:  # which renderer played: once, unless another plays a later sample
                renderers.add(played)
                log.info("%s: %s", paths["wav"].name, played)
        if cfg.piano_roll:
            title = f"{paths['midi'].name}: {composition.made}"
            save_piano_roll(paths["piano_roll"], events, composition.n_seed, title)
        written = {kind: path.resolve() for kind, path in paths.items() if kind == "midi" or cfg[kind]}
        results.append({"tokens": tokens, "paths": written})
    return results


def judge_pieces(cfg, composition: Composition, datamodule, settings: dict) -> MusicReport:
    """The music report of the generated parts (the seed left out) against Mozart's test sonatas."""
    judged = [events[composition.n_seed :] for events in composition.events]
    reference = mozart_stretches(datamodule, cfg.n_notes, cfg.reference_size)
    started, cpu = time.perf_counter(), time.process_time()
    report = judge(judged, reference, training_grams(datamodule), settings)
    log.info(
        "judged %d pieces against Mozart in %.1f s (%.1f s of CPU)",
        len(judged), time.perf_counter() - started, time.process_time() - cpu,
    )  # fmt: skip
    return report


def run(cfg: DictConfig) -> list[dict]:
    """Generate `num_samples` pieces; return, per sample, its tokens, file paths and summary."""
    sampler, rhythm = check_config(cfg)
    primer = check_primer(cfg.primer)
    ckpt_path = chosen_checkpoint(cfg)
    set_cudnn_tf32(cfg.cudnn_tf32)
    from mozart_lstm.models import read_checkpoint  # Lightning is slow to import: after the quick checks

    device = pick_device(cfg.device)
    ckpt = read_checkpoint(ckpt_path)
    tokenizer = ckpt.tokenizer
    sampler, mode, why = choose_sampler(sampler, ckpt.calibration, cfg.mode, ckpt_path)
    log.info("sampler: %s", why)
    seq_len = ckpt.data_settings.get("seq_len", 0)
    if cfg.composer == MOZART:
        check_mozart_split(ckpt.data_settings, ckpt_path)
    primed = primer and read_primer(primer, ckpt.vocab, tokenizer, seq_len)
    check_fits(cfg, len(primed) if primed else seq_len, tokenizer.mean_gap(rhythm, ckpt.rhythm))
    model = ckpt.build_network()
    check_fits_on_device(cfg, device, model, seq_len)
    datamodule = rebuild_data(ckpt)
    if "empirical" in (rhythm.offset, rhythm.duration) and not ckpt.rhythm:
        raise UserError(f"{ckpt_path}: holds no corpus rhythm for rhythm.offset/duration=empirical; use fixed")
    problem = tokenizer.rhythm_problem(rhythm)
    if problem:
        raise UserError(f"{ckpt_path}: {problem}")

    composition = compose_pieces(cfg, ckpt, model, datamodule, sampler, mode, rhythm, primed, device)
    results = write_pieces(cfg, composition)
    settings = {"ckpt": ckpt_path, "composer": cfg.composer, "n_notes": cfg.n_notes, "mode": mode}
    settings |= {"seed": cfg.seed, "num_samples": cfg.num_samples, "judge_pieces": cfg.judge_pieces}
    settings |= {"primer": str(primer)} if primer else {}
    settings |= option_settings(sampler, rhythm)
    report = judge_pieces(cfg, composition, datamodule, settings)

    for result, summary in zip(results, report.samples, strict=False):  # the judge's extra pieces come last
        result["summary"] = summary
    write_report(cfg.paths.output_dir, report)
    log.info("the generated part (the seed excluded) beside Mozart's own music:\n%s", format_report(report))
    for result in results:
        print(*result["paths"].values(), sep="\n")
    return results
