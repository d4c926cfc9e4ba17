"""Hear the model improve during training: every N epochs, a short generated sample is logged to
TensorBoard as audio (the generated part) and as a piano-roll image (seed window and generated part),
and a few samples are measured against Mozart's own music (scalars `music/...`, see generation.judge)."""

import dataclasses
import logging

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import TensorBoardLogger

from labtools.checks import is_whole
from mozart_lstm.composing.held_out import mozart_stretches, training_grams
from mozart_lstm.composing.piano_roll import plot_piano_roll
from mozart_lstm.composing.sampling import ARGMAX, Sampler, check_run, generate_ids
from mozart_lstm.composing.seeds import seed_windows
from mozart_lstm.composing.synth import render
from mozart_lstm.judging.judge import judge
from mozart_lstm.judging.report import MusicReport
from mozart_lstm.tokenizers import DEFAULT_RHYTHM, Rhythm

log = logging.getLogger(__name__)


class AudioSamples(pl.Callback):
    """Continue `num_samples` fixed test-split windows by `n_notes` tokens every `every_n_epochs` epochs.

    The same windows are used every time, so successive samples differ only by what the model learnt.
    `sampler` and `rhythm` come built from generate.py's groups, conf/sampler/ and conf/rhythm/.
    The first is logged as audio and a piano roll; all are measured against `reference_size` test-split
    stretches of Mozart: `music/<feature>` (the samples' mean), `music_reference/<feature>` (Mozart's),
    `music/overlap` (mean OA), `music/overlap_spread`, `music/kl` (mean KL), `music/two_sample_accuracy` (the
    classifier two-sample test; 0.5 = indistinguishable) and its `music/two_sample_spread`; `music/structure` is
    among the features. A figure that cannot be computed is left out, and the log says why once.
    Needs a TensorBoardLogger; without one it does nothing. Runs on the global-zero process only.
    """

    def __init__(
        self,
        every_n_epochs: int = 5,
        n_notes: int = 100,
        mode: str = "window",
        sampler: Sampler = ARGMAX,
        rhythm: Rhythm = DEFAULT_RHYTHM,
        sample_rate: int = 22050,
        bpm: float = 120.0,
        seed: int = 0,
        num_samples: int = 4,
        reference_size: int = 32,
    ):
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs}")
        if not is_whole(num_samples) or not is_whole(reference_size, minimum=0):
            raise ValueError(f"num_samples must be >= 1 and reference_size >= 0, got {num_samples}, {reference_size}")
        self.num_samples, self.reference_size = num_samples, reference_size
        self._reference: tuple[set, list] | None = None  # (training 8-grams, Mozart's stretches), built once
        self._said: set[str] = set()  # why a figure is missing, logged once each
        self.every_n_epochs = every_n_epochs
        self.n_notes = n_notes
        check_run(n_notes, mode)
        self.sampling = {"sampler": sampler, "mode": mode, "seed": seed}
        self.rhythm = rhythm
        self.sample_rate = sample_rate
        self.bpm = bpm
        self.seed = seed

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch = trainer.current_epoch + 1
        if epoch % self.every_n_epochs or not trainer.is_global_zero:
            return
        writer = next((lg.experiment for lg in trainer.loggers if isinstance(lg, TensorBoardLogger)), None)
        if writer is None:
            return
        datamodule = trainer.datamodule
        seed_ids = seed_windows(datamodule.test_set, self.num_samples, self.seed)
        ids = generate_ids(pl_module.net, seed_ids, self.n_notes, **self.sampling)
        n_seed = seed_ids.shape[1]
        pieces = []
        for k, row in enumerate(ids):
            tokens = datamodule.vocab.decode(row)
            pieces.append(datamodule.tokenizer.decode(tokens, self.rhythm, datamodule.rhythm, self.seed + k))
        step = trainer.global_step
        events = pieces[0]
        start = events[n_seed].offset
        new = [dataclasses.replace(e, offset=e.offset - start) for e in events[n_seed:]]
        audio = torch.from_numpy(render(new, self.sample_rate, self.bpm))
        writer.add_audio("samples/audio", audio[None], step, sample_rate=self.sample_rate)
        title = f"epoch {epoch}: {n_seed} seed tokens + {self.n_notes} generated"
        writer.add_figure("samples/piano_roll", plot_piano_roll(events, n_seed, title), step)
        self.log_music(writer, step, datamodule, [e[n_seed:] for e in pieces])
        log.info("Logged a %d-token sample (audio, piano roll, music figures) at epoch %d", self.n_notes, epoch)

    def log_music(self, writer, step: int, datamodule, pieces) -> None:
        """The generated parts' features and their closeness to Mozart's, as TensorBoard scalars."""
        if self._reference is None:
            reference = mozart_stretches(datamodule, self.n_notes, self.reference_size)
            self._reference = training_grams(datamodule), reference
        train_grams, reference = self._reference
        report = judge(pieces, reference, train_grams, {"n_notes": self.n_notes})
        spreads = [("music", report.sample_stats())]
        if reference:
            spreads.append(("music_reference", report.reference_stats))
        for prefix, stats in spreads:
            for name, figures in stats.items():
                if figures is not None and isinstance(figures["mean"], float):  # the histogram has no single line
                    writer.add_scalar(f"{prefix}/{name}", figures["mean"], step)
        for name, value in music_scalars(report).items():
            writer.add_scalar(f"music/{name}", value, step)
        why = report.two_sample["why"]
        if why and why not in self._said:
            self._said.add(why)
            log.info("audio_samples: %s", why)


def music_scalars(report: MusicReport) -> dict[str, float]:
    """The report's overall figures that it has: overlap, kl, their spread, the two-sample test's accuracy."""
    found = {
        "overlap": report.overlap,
        "kl": report.kl,
        "overlap_spread": report.overlap_spread,
        "two_sample_accuracy": report.told_apart,
        "two_sample_spread": report.told_apart_spread,
    }
    return {name: value for name, value in found.items() if value is not None}
