"""The benchmark's cases, each the lab's way (A) against the project (B), timed in interleaved rounds."""

import itertools
import logging
import math
import tempfile
from pathlib import Path

import pytorch_lightning as pl
import torch
from omegaconf import OmegaConf

from bench.gpu_probes import lstm_dtypes
from bench.lab_way import lab_evaluate, lab_loaders, lab_parse, lab_train
from bench.profiling import parse_profile
from bench.timing import interleave, speedup, timed
from mozart_lstm.callbacks.throughput import Throughput
from mozart_lstm.composing import predict_notes
from mozart_lstm.data.archive import midi_files
from mozart_lstm.data.tokenize import load_pieces
from mozart_lstm.data.windows import Vocab, WindowDataset, make_loader, split_windows
from mozart_lstm.models.module import MozartLitModule
from mozart_lstm.train import instantiate

log = logging.getLogger(__name__)


class MetricsDisagree(AssertionError):
    """The project's evaluation does not reproduce the lab's metrics."""


def check_same_metrics(lab: dict, project: dict, tolerance: float) -> None:
    """Accuracy and mean loss must agree to `tolerance`, absolutely or relatively (the loss is ~7 nats)."""
    for key in ("loss", "acc"):
        if not math.isclose(lab[key], project[key], rel_tol=tolerance, abs_tol=tolerance):
            raise MetricsDisagree(f"eval {key}: the lab's way gives {lab[key]!r}, the project {project[key]!r}")


def _case(case_id, title, runs, a, b, target=None, **details) -> dict:
    ratio = speedup(runs[a], runs[b])
    return {
        "id": case_id,
        "title": title,
        "a": {"label": a, "median_s": runs[a].median, "runs_s": runs[a].seconds},
        "b": {"label": b, "median_s": runs[b].median, "runs_s": runs[b].seconds},
        "ratio": ratio,
        "target": target,
        "met": None if target is None else ratio >= target,
        **details,
    }


def _corpus_options(cfg) -> dict:
    d = cfg.data
    return {"sha256": d.sha256, "url": d.url, "data_dir": d.data_dir, "num_workers": d.num_parse_workers}


def parse(cfg) -> list[dict]:
    """1. Cold parse: the lab's partitionByInstrument loop against the parallel parser with an empty cache.
    2. Warm parse: the parser with the cache the last cold run filled."""
    n = cfg.parse.max_files
    d = cfg.data
    files = midi_files(d.archive, d.sha256, d.url, d.data_dir, n)
    options = _corpus_options(cfg) | {"max_files": n}
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as scratch:
        rounds = itertools.count()

        def project_cold():  # a new, empty cache every round
            return timed(load_pieces, d.archive, cache_dir=Path(scratch) / str(next(rounds)), **options)

        cold = interleave(cfg.repeats, {"lab": lambda: timed(lab_parse, files), "project": project_cold})
        last_cache = Path(scratch) / str(cfg.repeats - 1)
        warm = interleave(cfg.repeats, {"warm": lambda: timed(load_pieces, d.archive, cache_dir=last_cache, **options)})
    lab_tokens, pieces = cold["lab"].info, cold["project"].info
    per_file = {p.name: {"project": len(p.tokens), "lab": len(lab_tokens.get(p.name, []))} for p in pieces}
    lost = sorted(name for name, count in per_file.items() if count["lab"] == 0 < count["project"])
    counts = {"lab_tokens": sum(map(len, lab_tokens.values())), "project_tokens": sum(len(p.tokens) for p in pieces)}
    cold_case = _case(
        "parse_cold",
        f"Parse, cold ({len(files)} files)",
        cold,
        "lab",
        "project",
        cfg.targets.parse_cold,
        files=[f.name for f in files],
        workers=d.num_parse_workers,
        lost_by_lab=lost,
        per_file=per_file,
        **counts,
    )
    warm["project"] = cold["project"]
    if cfg.parse.profile:
        cold_case["profile"] = parse_profile(files[0])
    warm_case = _case("parse_warm", "Parse, warm cache (against cold B)", warm, "project", "warm")
    return [cold_case, warm_case]


def corpus_tokens(cfg) -> list[str]:
    """Every token of the corpus used by the later cases, read through the project's cache."""
    instantiate(cfg.data, "data")  # its checks: a bad data.<key> is one line, before any parse, as in training
    d = cfg.data
    pieces = load_pieces(d.archive, cache_dir=d.cache_dir, max_files=d.max_files, **_corpus_options(cfg))
    return [token for piece in pieces for token in piece.tokens]


def _project_data(tokens, d):
    vocab = Vocab(tokens)
    train, test = split_windows(vocab.encode(tokens), d.seq_len, d.split, d.seed)
    return vocab, train, test, make_loader(train, d.batch_size, train=True)


def data(cfg, tokens) -> tuple[list[dict], dict]:
    """3. Build the windows and loaders, then one pass over every training batch."""
    d = cfg.data
    build = interleave(
        cfg.repeats,
        {
            "lab": lambda: timed(lab_loaders, tokens, d.seq_len, d.split, d.batch_size, d.seed),
            "project": lambda: timed(_project_data, tokens, d),
        },
    )
    lab_train_loader = build["lab"].info[0]
    vocab, train_set, test_set, train_loader = build["project"].info
    passes = interleave(
        cfg.repeats,
        {
            "lab": lambda: timed(sum, (1 for _ in lab_train_loader)),
            "project": lambda: timed(sum, (1 for _ in train_loader)),
        },
    )
    sizes = {"windows": len(train_set) + len(test_set), "train_batches": passes["project"].info}
    cases = [
        _case("data_build", "Build the windows and loaders", build, "lab", "project", cfg.targets.data_build, **sizes),
        _case("data_iterate", "One pass over all training batches", passes, "lab", "project"),
    ]
    built = {"vocab": vocab, "train_set": train_set, "test_set": test_set, "lab_train_loader": lab_train_loader}
    return cases, built


def _module(cfg, vocab) -> MozartLitModule:
    torch.manual_seed(cfg.seed)  # the same initial weights for every variant
    settings = OmegaConf.to_container(cfg.model)
    settings.pop("_target_", None)
    return MozartLitModule(list(vocab.tokens), "test", **settings)


def _trainer(cfg, precision, **kwargs) -> pl.Trainer:
    """The training run's Trainer as conf/bench.yaml adjusts it, at the variant's precision."""
    return instantiate(cfg.trainer, "trainer", precision=precision, **kwargs)


def train(cfg, built) -> tuple[dict, MozartLitModule]:
    """4. Training windows/s on the lab's model: the plain loop against Lightning, at each precision."""
    t, batch = cfg.train, cfg.data.batch_size
    loader = make_loader(built["train_set"], batch, train=True)
    last = {}

    def lab(precision):
        model = _module(cfg, built["vocab"]).net
        return lab_train(model, built["lab_train_loader"], t.steps, t.warmup, precision == "bf16-mixed"), None

    def project(precision):
        module, timer = _module(cfg, built["vocab"]), Throughput(skip_batches=t.warmup)
        trainer = _trainer(cfg, precision, max_steps=t.warmup + t.steps, limit_val_batches=0, callbacks=[timer])
        trainer.fit(module, train_dataloaders=loader)
        last["module"] = module
        return timer.epochs[-1]["train_s"] if timer.epochs else timer.current()["train_s"], None

    variants = {}
    for precision in t.precisions:
        variants[f"lab {precision}"] = lambda p=precision: lab(p)
        variants[f"project {precision}"] = lambda p=precision: project(p)
    runs = interleave(cfg.repeats, variants)
    rates = {name: t.steps * batch / r.median for name, r in runs.items()}
    overhead = {p: rates[f"lab {p}"] / rates[f"project {p}"] - 1 for p in t.precisions}
    case = _case(
        "train",
        f"Train, lab model ({t.steps} steps of {batch})",
        runs,
        f"lab {t.precisions[0]}",
        f"project {t.target_precision}",
        cfg.targets.train,
        windows_per_s=rates,
        lightning_overhead=overhead,
        overhead_target=cfg.targets.lightning_overhead,
        overhead_met=all(v <= cfg.targets.lightning_overhead for v in overhead.values()),
        runs_s={name: r.seconds for name, r in runs.items()},
        # what the LSTM really ran in under each precision here (the policy decides per CPU: docs/cpu_bf16.md)
        lstm_dtype={p: lstm_dtypes(torch.device("cpu"), p)["network"] for p in t.precisions},
    )
    return case, last["module"]


def set_unigram_prior(net, labels: torch.Tensor, vocab_size: int) -> None:
    """Make the output bias the log frequency of each token among `labels`.

    A model trained for a few steps predicts almost nothing right, so an accuracy check on it compares 0 with 0;
    with this bias it predicts like the frequency baseline plus its features, and its accuracy means something.
    """
    output_norm = [layer for layer in net.head if isinstance(layer, torch.nn.BatchNorm1d)][-1]
    counts = torch.bincount(labels, minlength=vocab_size).float() + 1
    with torch.no_grad():
        output_norm.bias.copy_(counts.log() - counts.sum().log())


def evaluate(cfg, built, module) -> dict:
    """5. The test split: batch size 1 (the lab) against the project's eval batch size, same windows."""
    set_unigram_prior(module.net, built["train_set"].tensors()[1], len(built["vocab"]))
    test_set = built["test_set"]
    starts = test_set.starts[: cfg.eval.windows]
    subset = WindowDataset(test_set.ids, starts, test_set.seq_len)
    pairs = [[x.clone(), int(y)] for x, y in (subset[i] for i in range(len(subset)))]

    def project():
        # float32 whatever trainer.precision says: the metrics must match the lab's float32 evaluation
        trainer = _trainer(cfg, "32", limit_val_batches=1.0)
        loader = make_loader(subset, cfg.data.eval_batch_size, train=False)
        seconds, [metrics] = timed(trainer.validate, module, dataloaders=loader, verbose=False)
        return seconds, {"loss": float(metrics["test/loss"]), "acc": float(metrics["test/acc"])}

    runs = interleave(cfg.repeats, {"lab": lambda: timed(lab_evaluate, module.net, pairs), "project": project})
    check_same_metrics(runs["lab"].info, runs["project"].info, cfg.eval.tolerance)
    return _case(
        "eval",
        f"Evaluate {len(pairs)} test windows",
        runs,
        "lab",
        "project",
        cfg.targets.eval,
        windows=len(pairs),
        batch_size=cfg.data.eval_batch_size,
        metrics={"lab": runs["lab"].info, "project": runs["project"].info},
        tolerance=cfg.eval.tolerance,
        metrics_equal=True,
    )


def generate(cfg, built, module) -> dict:
    """6. 500 tokens from one seed window: the lab's windowed loop against the stateful one."""
    net, vocab = module.net.eval(), built["vocab"].tokens
    seed = built["vocab"].decode(built["test_set"][0][0])
    n = cfg.generate.tokens
    for mode in ("window", "stateful"):
        predict_notes(net, vocab, seed, 2, mode=mode)  # warm-up: first-call costs are not per-token costs
    runs = interleave(
        cfg.repeats,
        {mode: lambda m=mode: timed(predict_notes, net, vocab, seed, n, mode=m) for mode in ("window", "stateful")},
    )
    rates = {mode: n / r.median for mode, r in runs.items()}
    return _case(
        "generate",
        f"Generate {n} tokens",
        runs,
        "window",
        "stateful",
        cfg.targets.generate,
        tokens=n,
        tokens_per_s=rates,
    )
