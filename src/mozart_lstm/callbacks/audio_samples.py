"""Hear the model improve during training: every N epochs, a short generated sample is logged to
TensorBoard as audio (the generated part) and as a piano-roll image (seed window and generated part)."""

import dataclasses
import logging

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import TensorBoardLogger

from mozart_lstm.generation.music import check_rhythm, make_timing, note_events
from mozart_lstm.generation.piano_roll import plot_piano_roll
from mozart_lstm.generation.sampling import Sampler, check_run, generate_ids
from mozart_lstm.generation.synth import render

log = logging.getLogger(__name__)


class AudioSamples(pl.Callback):
    """Continue one fixed test-split window by `n_notes` tokens every `every_n_epochs` epochs.

    The same window is used every time, so successive samples differ only by what the model learnt.
    Needs a TensorBoardLogger; without one it does nothing. Runs on the global-zero process only.
    """

    def __init__(
        self,
        every_n_epochs: int = 5,
        n_notes: int = 100,
        mode: str = "window",
        sampling: str = "argmax",
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        repetition_penalty: float = 1.0,
        offset: str = "fixed",
        offset_step: float = 0.5,
        duration: str = "fixed",
        duration_value: float | None = None,
        sample_rate: int = 22050,
        bpm: float = 120.0,
        seed: int = 0,
    ):
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs}")
        self.every_n_epochs = every_n_epochs
        self.n_notes = n_notes
        check_run(n_notes, mode)
        self.sampling = {"mode": mode, "seed": seed}
        self.sampling |= vars(Sampler(sampling, temperature, top_k, top_p, repetition_penalty))
        self.rhythm = {"offset": offset, "offset_step": offset_step, "duration": duration}
        self.rhythm["duration_value"] = duration_value
        check_rhythm(**self.rhythm)
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
        test_set = datamodule.test_set
        pick = torch.randint(len(test_set), (1,), generator=torch.Generator().manual_seed(self.seed)).item()
        seed_ids = test_set[pick][0][None]
        ids = generate_ids(pl_module.net, seed_ids, self.n_notes, **self.sampling)
        tokens = datamodule.vocab.decode(ids[0])
        n_seed = seed_ids.shape[1]
        timing = make_timing(len(tokens), **self.rhythm, rhythm=datamodule.rhythm, seed=self.seed)
        events = note_events(tokens, timing)
        start = events[n_seed].offset
        new = [dataclasses.replace(e, offset=e.offset - start) for e in events[n_seed:]]
        audio = torch.from_numpy(render(new, self.sample_rate, self.bpm))
        step = trainer.global_step
        writer.add_audio("samples/audio", audio[None], step, sample_rate=self.sample_rate)
        title = f"epoch {epoch}: {n_seed} seed tokens + {self.n_notes} generated"
        writer.add_figure("samples/piano_roll", plot_piano_roll(events, n_seed, title), step)
        log.info("Logged a %d-token sample (audio and piano roll) at epoch %d", self.n_notes, epoch)
