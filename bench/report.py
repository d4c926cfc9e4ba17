"""results.json, results.md and the printed table; a missed target gets the measured reason beside it."""

import json
import logging
from pathlib import Path

from labtools.fileio import atomic_write_text

log = logging.getLogger(__name__)

G = 1e9


def _seconds(side: dict) -> str:
    return f"{side['median_s']:.3g} s"


def _row(case: dict) -> list[str]:
    a, b = case["a"], case["b"]
    if case["id"] == "train":
        a_text, b_text = (_train_rate(case, side["label"]) for side in (a, b))
    elif case["id"] == "time_to_accuracy":
        return _time_to_accuracy_row(case)
    elif case["id"] == "generate":
        rates = case["tokens_per_s"]
        a_text, b_text = f"{rates['window']:.2f} tokens/s", f"{rates['stateful']:.2f} tokens/s"
    else:
        a_text, b_text = _seconds(a), _seconds(b)
    target = "" if case["target"] is None else f"≥ {case['target']}×"
    met = {None: "", True: "yes", False: "**no**"}[case["met"]]
    title = f"{case['title']}: {a['label']} vs {b['label']}"
    return [title, a_text, b_text, f"{case['ratio']:.2f}×", target, met]


def _precision(label: str) -> str:
    """The precision in a training variant's label, e.g. "project bf16-mixed" -> "bf16-mixed"."""
    return label.split(" ", 1)[1]


def _lstm_note(case: dict, label: str) -> str:
    """The dtype a training variant's LSTM ran in, as " (LSTM <dtype>)"; empty in older reports, which lack it."""
    dtype = case.get("lstm_dtype", {}).get(_precision(label))
    return f" (LSTM {dtype})" if dtype else ""


def _train_rate(case: dict, label: str) -> str:
    return f"{case['windows_per_s'][label]:.1f} windows/s{_lstm_note(case, label)}"


def _time_to_accuracy_row(case: dict) -> list[str]:
    a, b = case["a"], case["b"]
    a_text = f"acc {a['accuracy']:.3f} after {a['seconds']:.0f} s ({a['steps']} steps)"
    b_text = f"{b['seconds']:.0f} s ({b['steps']} steps)" if b["seconds"] is not None else "not reached"
    ratio = "—" if case["ratio"] is None else f"{case['ratio']:.1f}×"
    met = "yes" if case["met"] else "**no**"
    return [f"{case['title']}: {a['label']} vs {b['label']}", a_text, b_text, ratio, f"≥ {case['target']}×", met]


def table(cases: list[dict]) -> str:
    header = ["case: A vs B", "A", "B", "B over A", "target", "met"]
    rows = [header, ["---"] * len(header), *map(_row, cases)]
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def _by_id(report: dict) -> dict:
    return {case["id"]: case for case in report["cases"]}


def details(report: dict) -> list[str]:
    lines = _lab_way_details(report) if "physics" in report else []
    if "time_to_accuracy" in _by_id(report):
        lines.append(_time_to_accuracy_details(_by_id(report)["time_to_accuracy"]))
    m = report["machine"]
    lines.append(
        f"- **Machine**: {m['cpu']}, {m['cores']} cores, torch {m['torch']} ({m['cpu_capability']}), "
        f"{m['torch_threads']} threads; bfloat16 LSTM: "
        f"{_bf16_answer(m)}; load average (1/5/15 min) {_load(m['load_average_start'])} at the start, "
        f"{_load(m['load_average_end'])} at the end (other jobs share the cores: every figure is noisy, "
        "which is why the variants are interleaved and only ratios are compared)."
    )
    return lines + [f"- **{case['title']}** missed its target: {why}" for case, why in missed(report)]


def _bf16_answer(machine: dict) -> str:
    answer = machine.get("cpu_bf16")
    if answer is None:  # reports from before the detection
        return "not detected"
    return ("native" if answer["native"] else "not native") + f" ({answer['reason']})"


def _time_to_accuracy_details(case: dict) -> str:
    a, equal, per_step = case["a"], case["b_at_equal_time"], case["seconds_per_step"]
    return (
        f"- **Time to accuracy** on {case['eval_windows']} fixed held-out windows (most frequent token: "
        f"{case['most_frequent_accuracy']:.3f}): after {a['seconds']:.0f} s of training the lab's objective "
        f"stood at {a['accuracy']:.3f} and experiment=fast at {equal['accuracy']:.3f}. Seconds per step: "
        + ", ".join(f"{name} {seconds:.2f}" for name, seconds in per_step.items())
        + ". Accuracy by step: "
        + "; ".join(
            f"{name} " + ", ".join(f"{steps}: {acc:.3f}" for _, steps, acc in history)
            for name, history in case["history"].items()
        )
        + "."
    )


def _lab_way_details(report: dict) -> list[str]:
    cases, phys = _by_id(report), report["physics"]
    parse, train, ev, gen = cases["parse_cold"], cases["train"], cases["eval"], cases["generate"]
    flops = phys["flops_per_window"]
    return [
        f"- **Parse** ({len(parse['files'])} files: {', '.join(parse['files'])}): the lab's way gives "
        f"{parse['lab_tokens']} tokens, the project {parse['project_tokens']}. "
        + (
            f"The lab's way loses {len(parse['lost_by_lab'])} sonatas entirely: {', '.join(parse['lost_by_lab'])} "
            "(`partitionByInstrument(...).parts[0]` holds none of their notes)."
            if parse["lost_by_lab"]
            else "The lab's way loses no file of these."
        ),
        f"- **Data**: {cases['data_build']['windows']} windows, {cases['data_build']['train_batches']} training "
        f"batches; one pass over them: {cases['data_iterate']['ratio']:.1f}× faster.",
        "- **Train** (windows/s): "
        + ", ".join(f"{k} {v:.1f}{_lstm_note(train, k)}" for k, v in train["windows_per_s"].items())
        + ". Lightning's overhead against the plain loop at the same precision: "
        + ", ".join(f"{k}: {v:+.1%}" for k, v in train["lightning_overhead"].items())
        + f" (target ≤ {train['overhead_target']:.0%}: {'met' if train['overhead_met'] else '**missed**'}); "
        + "spread of the rounds (max − min over median): "
        + ", ".join(f"{k} {(max(v) - min(v)) / sorted(v)[len(v) // 2]:.0%}" for k, v in train["runs_s"].items())
        + ".",
        f"- **Evaluate**: lab {ev['metrics']['lab']}, project {ev['metrics']['project']}: equal within "
        f"{ev['tolerance']:g} (checked; the benchmark fails otherwise). Project batch size {ev['batch_size']}.",
        "- **Generate** (tokens/s): "
        + ", ".join(f"{k} {v:.2f}" for k, v in gen["tokens_per_s"].items())
        + f"; {gen['tokens']} tokens from one test window, argmax.",
        f"- **FLOPs per training window**: {flops['training'] / G:.4g} GFLOP = 3 × forward "
        f"({flops['lstm'] / G:.4g} LSTM + {flops['head'] / G:.4g} head); LSTM = seq_len · Σ_l 2·4h·(in_l + h), "
        "head = Σ 2·a·b over its Linear layers, embedding 0, elementwise work not counted.",
        "- **Matmul peak** (measured in this run): "
        + ", ".join(f"{k} {v / G:.1f} GFLOP/s" for k, v in phys["matmul_peak_flops"].items())
        + ". Training reaches "
        + ", ".join(
            f"{k} {v / G:.1f} GFLOP/s ({phys['train_share_of_peak'][k]:.0%})" for k, v in phys["train_flops"].items()
        )
        + " of the higher peak.",
    ]


def _load(values) -> str:
    return "/".join(f"{v:.1f}" for v in values)


def missed(report: dict) -> list[tuple[dict, str]]:
    """The measured reason for each missed target."""
    cases, m = _by_id(report), report["machine"]
    reasons = {
        "parse_cold": lambda: _parse_reason(cases["parse_cold"], m),
        "train": lambda: _train_reason(report),
        "eval": lambda: _eval_reason(report),
        "generate": lambda: _generate_reason(report),
        "time_to_accuracy": lambda: _time_to_accuracy_reason(cases["time_to_accuracy"]),
    }
    no_reason = lambda: "no measured reason; profile it (torch.profiler, py-spy)"  # noqa: E731
    return [(case, reasons.get(case["id"], no_reason)()) for case in report["cases"] if case["met"] is False]


def _time_to_accuracy_reason(case: dict) -> str:
    a, b, frequent = case["a"], case["b"], case["most_frequent_accuracy"]
    steps_text = f"in {a['seconds']:.0f} s the lab's objective made {a['steps']} steps and reached {a['accuracy']:.3f}"
    if b["seconds"] is None:
        return f"{steps_text}, and experiment=fast did not pass it within the same time."
    text = f"{steps_text}; experiment=fast passed it after {b['steps']} steps ({b['seconds']:.0f} s)."
    if a["accuracy"] < frequent:
        text += (
            f" A is still below always predicting the most frequent token ({frequent:.3f}): at this budget the "
            "lab's objective has not learnt even the token frequencies, so the case measures no learning yet."
        )
    if b["steps"] <= case["eval_every"]:
        text += (
            f" B passed at its first evaluation (every {case['eval_every']} steps), so the ratio is bounded by the "
            "evaluation spacing, not by the objectives. A larger budget_s compares them where both have learnt."
        )
    return text


def _train_reason(report: dict) -> str:
    """The verdict says physical only where it is: bfloat16 arithmetic slower than float32 here. Where bfloat16 is
    faster but the LSTM, nearly all the FLOPs, still ran in float32, the precision policy set the limit."""
    peaks, m, train = report["physics"]["matmul_peak_flops"], report["machine"], _by_id(report)["train"]
    precision = _precision(train["b"]["label"])
    dtype = train.get("lstm_dtype", {}).get(precision, "float32")
    peak_text = (
        f"bfloat16 matmuls run at {peaks['bfloat16'] / G:.1f} GFLOP/s here against {peaks['float32'] / G:.1f} for "
        f"float32 ({m['cpu_capability']})"
    )
    if peaks["bfloat16"] < peaks["float32"]:
        return (
            f"a physical limit: {peak_text}: this CPU has no fast bfloat16 arithmetic, and the LSTM ran in {dtype} "
            f"under {precision}. bf16-mixed cannot speed training up on this machine; the remaining gain is "
            "Lightning against the plain loop at equal precision, i.e. none. On a GPU: docs/gpu.md, bench/gpu.sh."
        )
    if dtype != "bfloat16":
        why = m.get("cpu_bf16", {}).get("reason", "no native bfloat16 LSTM detected")
        return (
            f"not a physical limit: {peak_text}, but the LSTM, nearly all the FLOPs, ran in {dtype} under "
            f"{precision}, as the precision policy decided ({why}); docs/cpu_bf16.md."
        )
    return f"not a physical limit: {peak_text}, and the LSTM ran in bfloat16 under {precision}; profile the step."


def _eval_reason(report: dict) -> str:
    phys, case = report["physics"], _by_id(report)["eval"]
    peak, bound = max(phys["matmul_peak_flops"].values()), phys["eval_ratio_bound"]
    text = (
        f"batch 1 runs at {phys['eval_flops']['a'] / G:.1f} GFLOP/s and the project's batch at "
        f"{phys['eval_flops']['b'] / G:.1f} ({phys['eval_flops']['b'] / peak:.0%} of the {peak / G:.1f} GFLOP/s "
        f"matmul peak measured here), so no batch size can beat batch 1 by more than {bound:.1f}× on this machine"
    )
    if bound < case["target"]:
        return text + ": the limit is the CPU's arithmetic, and the metrics are identical."
    return text + ": not a physical limit; per-batch overheads set this figure."


def _generate_reason(report: dict) -> str:
    phys, s = report["physics"], report["settings"]
    rate = _by_id(report)["generate"]["tokens_per_s"]["stateful"]
    streamed = rate * phys["parameter_bytes"]
    return (
        f"a stateful token still reads every weight once ({phys['parameter_bytes'] / 1e6:.1f} MB) for a single "
        f"LSTM step, while a windowed token runs {s['seq_len']} steps on weights held in cache: the FLOP ratio "
        f"would allow about {s['seq_len']}×. The stateful loop streams weights at {streamed / G:.1f} GB/s, "
        f"{streamed / phys['memory_bandwidth']:.0%} of the {phys['memory_bandwidth'] / G:.1f} GB/s copy bandwidth "
        "measured in this run (shared with the other jobs on the machine): memory, not arithmetic, sets its rate."
    )


def _parse_reason(case: dict, m: dict) -> str:
    text = (
        f"the parser runs {case['workers'] or m['cores']} processes on {m['cores']} cores, so parallelism alone "
        "gives at most that factor, and each file costs the project what it costs the lab: the same music21 parse."
    )
    if "profile" in case:
        profile = case["profile"]
        shares = profile["notation_share"]
        steps = ", ".join(f"{name} {share:.0%}" for name, share in shares.items())
        text += (
            f" A profile of {profile['file']} ({profile['profiled_s']:.1f} s under cProfile) finds "
            f"{sum(shares.values()):.0%} of it in music21 building notation ({steps}); the tokens depend on it "
            "(ties split notes at bar lines, rests re-position measures), so it cannot be skipped without "
            "changing them."
        )
    return text


def markdown(report: dict) -> str:
    s = report["settings"]
    intro = (
        f"Each case ran {s['repeats']} interleaved rounds (A B A B ...); times are medians, ratios are A's time "
        f"over B's (higher is better); case 7 alternates training steps instead. Corpus for cases 3-7: "
        f"{s['corpus_tokens']} tokens; model: {s['model']}; windows of {s['seq_len']}, batch {s['batch_size']}."
    )
    return (
        "\n\n".join(
            [
                "# Benchmark: the project against the lab's way",
                intro,
                table(report["cases"]),
                "\n".join(details(report)),
            ]
        )
        + "\n"
    )


def write_reports(out_dir: Path, report: dict) -> None:
    atomic_write_text(out_dir / "results.json", json.dumps(report, indent=2, default=str) + "\n")
    atomic_write_text(out_dir / "results.md", markdown(report))
    print(table(report["cases"]))
    log.info("Results in %s", out_dir)
