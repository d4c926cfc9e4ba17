"""Every numeric setting of the training task at its extremes: (override -> exit code, message fragment).

Exit code 2 is a UserError, which train.py prints as one `error:` line (test_config_validation.py runs that
once as a subprocess); 0 is a finished run. Integer settings refuse floats such as 5.0 with a hint; real ones
take integers. Every refusal comes before the data is read.
"""

import math

import pytest
from pytorch_lightning.accelerators import CUDAAccelerator, MPSAccelerator

from labtools.errors import UserError
from mozart_lstm.train import run
from mozart_lstm.train_settings import check_train_settings

HUGE_INT = 10**30

REFUSED = [
    # top level
    ("seed=-1", "seed=-1: must be a whole number in [0, 4294967295]"),
    ("seed=4294967296", "seed=4294967296: must be a whole number in [0,"),
    ("seed=1.0", "seed=1.0: must be a whole number in [0, 4294967295] (integers are written without a point)"),
    ("seed=nan", "seed=nan: must be a whole number"),
    ("torch_threads=0", "torch_threads=0: must be null or a whole number >= 1"),
    ("torch_threads=2.0", "torch_threads=2.0: must be null or a whole number >= 1 (integers are written"),
    ("keep_last_checkpoints=0", "keep_last_checkpoints=0: must be -1 (keep every epoch's) or a whole number >= 1"),
    ("keep_last_checkpoints=-2", "keep_last_checkpoints=-2: must be -1"),
    ("keep_last_checkpoints=1e300", "keep_last_checkpoints=1e+300: must be -1"),
    ("keep_last_checkpoints=inf", "keep_last_checkpoints=inf: must be -1"),
    # trainer
    ("trainer.max_epochs=0", "trainer.max_epochs=0: must be a whole number >= 1"),
    ("trainer.max_epochs=-1", "trainer.max_epochs=-1: must be a whole number >= 1"),
    ("trainer.max_epochs=5.0", "trainer.max_epochs=5.0: must be a whole number >= 1 (integers are written"),
    ("trainer.max_epochs=inf", "trainer.max_epochs=inf: must be a whole number >= 1"),
    ("trainer.devices=0", "trainer.devices=0: must be a whole number >= 1"),
    ("trainer.num_nodes=1e300", "trainer.num_nodes=1e+300: must be a whole number >= 1"),
    ("trainer.gradient_clip_val=-1", "trainer.gradient_clip_val=-1: must be null or a finite number >= 0"),
    ("trainer.gradient_clip_val=nan", "trainer.gradient_clip_val=nan: must be null or a finite number"),
    ("trainer.gradient_clip_val=inf", "trainer.gradient_clip_val=inf: must be null or a finite number"),
    ("trainer.gradient_clip_val=1e300", "trainer.gradient_clip_val=1e+300: beyond float32's range"),
    ("trainer.check_val_every_n_epoch=0", "trainer.check_val_every_n_epoch=0: must be a whole number >= 1"),
    ("trainer.log_every_n_steps=-1", "trainer.log_every_n_steps=-1: must be a whole number >= 1"),
    ("trainer.limit_train_batches=0", "trainer.limit_train_batches=0: must be a fraction in (0, 1]"),
    ("trainer.limit_train_batches=1e-300", None),  # a fraction: Lightning judges it against the data, below
    ("trainer.limit_train_batches=2.0", "trainer.limit_train_batches=2.0: must be a fraction in (0, 1] like 0.5"),
    ("trainer.limit_val_batches=nan", "trainer.limit_val_batches=nan: must be a fraction"),
    # data
    ("data.seq_len=0", "data.seq_len must be an integer of at least 1, got 0"),
    ("data.seq_len=8.0", "data.seq_len must be an integer of at least 1, got 8.0"),
    ("data.seq_len=1e300", "data.seq_len must be an integer of at least 1, got 1e+300"),
    ("data.batch_size=-4", "data.batch_size must be an integer of at least 1, got -4"),
    ("data.eval_batch_size=inf", "data.eval_batch_size must be an integer of at least 1, got inf"),
    ("data.max_files=0", "data.max_files must be null or at least 1, got 0"),
    ("data.num_workers=-1", "data.num_workers must be at least 0, got -1"),
    ("data.num_parse_workers=0", "data.num_parse_workers=0: must be null (one per CPU core)"),
    ("data.split=[nan,0.5]", "data.split=[nan, 0.5] must be 2 finite fractions (train, test) or 3"),
    ("data.split=[inf,-inf]", "data.split=[inf, -inf] must be 2 finite fractions (train, test) or 3"),
    ("data.split=[1e-300,1.0]", None),  # legal: refused later for leaving the train split empty
    ("data.train_spacing=0", "data.train_spacing must be an integer of at least 1 (1: every window), got 0"),
    ("data.train_spacing=8.0", "data.train_spacing must be an integer of at least 1 (1: every window), got 8.0"),
    ("data.train_spacing=inf", "data.train_spacing must be an integer of at least 1 (1: every window), got inf"),
    ("data.eval_windows=0", "data.eval_windows must be null (the whole split) or at least 1, got 0"),
    ("data.eval_windows=2.0", "data.eval_windows must be null (the whole split) or at least 1, got 2.0"),
    ("data.eval_windows=nan", "data.eval_windows must be null (the whole split) or at least 1, got nan"),
    # model
    ("model.hidden_size=0", "model.hidden_size=0: must be a whole number >= 1"),
    ("model.hidden_size=16.0", "model.hidden_size=16.0: must be a whole number >= 1"),
    (f"model.hidden_size={HUGE_INT}", f"model (embedding_dim=8, hidden_size={HUGE_INT}, num_layers=3): training it"),
    ("model.num_layers=-1", "model.num_layers=-1: must be a whole number >= 1"),
    ("model.linear_sizes=[0]", "model.linear_sizes[0]=0: must be a whole number >= 1"),
    ("model.dropout=1", "model.dropout=1: must be in [0, 1)"),
    ("model.dropout=nan", "model.dropout=nan: must be in [0, 1)"),
    ("model.lr=0", "model.lr=0: must be a finite number > 0"),
    ("model.lr=inf", "model.lr=inf: must be a finite number > 0"),
    ("model.lr=nan", "model.lr=nan: must be"),
    ("model.lr=1e300", "model.lr=1e+300: beyond float32's range (at most 3.4e+38 in size)"),
    ("model.lr=3.5e38", "model.lr=3.5e+38: beyond float32's range"),
    ("model.objective=0", "model.objective=0: must be one of last, all"),
    # callbacks (several overrides in one row are separated by spaces)
    ("callbacks.curves.accuracy_goal=nan", "callbacks.curves.accuracy_goal=nan: must be a number in [0, 1]"),
    ("callbacks.baselines.ngram_order=0", "callbacks.baselines.ngram_order=0: must be null (chosen on the val"),
    ("callbacks.baselines.ngram_order=2.5", "callbacks.baselines.ngram_order=2.5: must be null"),
    ("callbacks.baselines.max_order=0", "callbacks.baselines.max_order=0: must be a whole number >= 1"),
    ("data.transpose=-1", "data.transpose=-1: must be a whole number of semitones >= 0"),
    ("data.transpose=1.5", "data.transpose=1.5: must be a whole number of semitones >= 0"),
    ("callbacks=[default,throughput] callbacks.throughput.skip_batches=-1", "skip_batches=-1: must be a whole"),
    ("callbacks=[default,early_stopping] callbacks.early_stopping.patience=1.0", "patience=1.0: must be a whole"),
    ("callbacks=[default,early_stopping] callbacks.early_stopping.min_delta=inf", "min_delta=inf: must be a finite"),
    ("callbacks=[default,early_stopping] callbacks.early_stopping.min_delta=-1e39", "min_delta=-1e+39: beyond float32"),
    ("callbacks=[default,audio_samples] callbacks.audio_samples.every_n_epochs=0", "every_n_epochs=0: must be"),
    (
        "callbacks=[default,audio_samples] callbacks.audio_samples.sampler.temperature=0",
        "callbacks.audio_samples.sampler.temperature=0: must be a finite number > 0",
    ),
    # the Trainer's own checks (Lightning's), run before the data too
    ("+trainer.no_such_option=1", "trainer: Error in call to target"),
    ("trainer.precision=17", "trainer: Error in call to target"),
]


@pytest.mark.parametrize(
    ("override", "fragment"), [row for row in REFUSED if row[1]], ids=[row[0] for row in REFUSED if row[1]]
)
def test_refused_before_the_data_is_read(make_train_cfg, no_file_access, override, fragment):
    with pytest.raises(UserError) as caught:
        run(make_train_cfg(*override.split()))
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


ANSWERED = [
    # (overrides -> exit code, fragment of the message or of the final metrics' keys)
    (["trainer.limit_train_batches=1e-300"], 2, "trainer: You requested to check 1e-300 of the `train_dataloader`"),
    (["data.split=[1e-300,1.0]"], 2, "too few to give every part of data.split=[1e-300, 1.0] a window"),
    ([f"data.batch_size={HUGE_INT}"], 2, f"data.batch_size={HUGE_INT} exceeds the"),
    ([f"data.train_spacing={HUGE_INT}"], 2, f"data.train_spacing={HUGE_INT} leaves 1 of the"),
    (["model.objective=all", "data.train_spacing=70", f"data.eval_windows={HUGE_INT}"], 0, "test_full/acc"),
    (["model.objective=all", "data.train_spacing=8", "data.eval_windows=1"], 0, "test_full/acc"),
    ([f"keep_last_checkpoints={HUGE_INT}", "trainer.gradient_clip_val=3.4e38", "model.lr=1e-300"], 0, "train/loss"),
    (["model.lr=3e38", "trainer.max_epochs=2"], 2, "training diverged: "),
    (["trainer.limit_train_batches=1", "trainer.limit_val_batches=1.0", "seed=4294967295"], 0, "train/loss"),
]


@pytest.mark.usefixtures("single_torch_thread")
@pytest.mark.parametrize(("overrides", "code", "fragment"), ANSWERED, ids=[" ".join(row[0]) for row in ANSWERED])
def test_legal_extremes_get_an_answer(make_train_cfg, overrides, code, fragment):
    try:
        metrics = run(make_train_cfg(*overrides))
    except UserError as err:
        assert (code, "\n" not in str(err)) == (2, True), err
        assert fragment in str(err)
        return
    assert code == 0
    assert fragment in metrics and all(math.isfinite(value) for value in metrics.values())


@pytest.mark.parametrize(
    ("accelerator", "cuda", "mps", "refused"),
    [
        ("gpu", False, False, True),
        ("cuda", False, True, True),
        ("mps", True, False, True),
        ("gpu", False, True, False),
        ("gpu", True, False, False),
        ("cuda", True, False, False),
        ("cpu", False, False, False),
        ("auto", False, False, False),
    ],
)
def test_a_gpu_accelerator_is_refused_before_the_data_only_where_none_is_visible(
    make_train_cfg, no_file_access, monkeypatch, accelerator, cuda, mps, refused
):
    monkeypatch.setattr(CUDAAccelerator, "is_available", staticmethod(lambda: cuda))
    monkeypatch.setattr(MPSAccelerator, "is_available", staticmethod(lambda: mps))
    cfg = make_train_cfg(f"trainer.accelerator={accelerator}")
    if not refused:
        check_train_settings(cfg)  # raises if refused
        return
    with pytest.raises(UserError) as caught:
        run(cfg)
    assert str(caught.value) == (
        f"trainer.accelerator={accelerator}: no such GPU is visible here; train on the CPU with trainer=cpu "
        "(experiment=recipe is the CPU recipe)"
    )
