"""Native bfloat16 on a CPU: the detection, the policy's two CPU branches (the one this machine lacks forced), the
carried state kept float32, trainer.precision=auto and the bench's verdict."""

import logging

import pytest
import torch
from omegaconf import OmegaConf

from bench.report import _train_reason
from mozart_lstm.cpu_fallback import cpu_fallback_notice
from mozart_lstm.models import MozartLSTM, NetworkConfig, cpu_bf16
from mozart_lstm.models import precision as policy
from mozart_lstm.models.cpu_bf16 import CpuBf16, CpuFacts, cpu_flags, decide
from tests.defaults import network_settings

AVX2_EPYC = CpuFacts("AVX2", onednn=True, onednn_bf16=False, flags=frozenset({"avx2", "fma"}), max_isa="")
SKYLAKE = CpuFacts("AVX512", True, True, frozenset({"avx2", "avx512f", "avx512bw"}), "")
# the EPYC, family 25 model 17 (Zen 4)
ZEN4 = CpuFacts("AVX512", True, True, frozenset({"avx2", "avx512f", "avx512bw", "avx512_bf16"}), "")
SAPPHIRE_RAPIDS = CpuFacts("AVX512", True, True, frozenset({"avx512f", "amx_bf16"}), "")


def with_(facts: CpuFacts, **changes) -> CpuFacts:
    return CpuFacts(**(vars(facts) | changes))


@pytest.mark.parametrize(
    ("facts", "native", "says"),
    [
        (AVX2_EPYC, False, "would raise"),
        (SKYLAKE, False, "emulate"),
        (ZEN4, True, "flags avx512_bf16"),
        (SAPPHIRE_RAPIDS, True, "flags amx_bf16"),
        (with_(ZEN4, onednn_bf16=None), True, "hardware"),  # a torch without the oneDNN check: the flags decide
        (with_(ZEN4, onednn=False), False, "oneDNN is off"),
        (with_(ZEN4, max_isa="AVX512_CORE"), False, "ONEDNN_MAX_CPU_ISA=AVX512_CORE keeps oneDNN below"),
        (with_(ZEN4, max_isa="AVX2"), False, "below bfloat16"),
        (with_(ZEN4, max_isa="AVX512_CORE_BF16"), True, "hardware"),
        (with_(SAPPHIRE_RAPIDS, max_isa="AVX512_CORE_AMX"), True, "hardware"),
        (with_(ZEN4, max_isa="ALL"), True, "hardware"),
        (with_(ZEN4, max_isa="AVX9000"), False, "not an ISA oneDNN names"),
    ],
)
def test_native_only_where_every_layer_agrees(facts, native, says):
    answer = decide(facts)
    assert answer.native is native and says in answer.reason
    assert "\n" not in answer.reason and f"torch {facts.capability}" in answer.reason


def test_the_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512_bf16\n\nflags\t: other\n")
    assert cpu_flags(cpuinfo) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "absent") == frozenset()


@pytest.mark.parametrize("variable", ["ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"])
def test_the_onednn_cap_is_read_from_the_environment(monkeypatch, variable):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    monkeypatch.setenv(variable, " avx2 ")
    assert cpu_bf16.machine_facts().max_isa == "AVX2"


def test_this_machines_answer_is_what_onednn_does_here():
    """The real answer against a real bf16 autocast LSTM: it raises where the answer says so, and a native answer
    runs the LSTM in bfloat16. Only the machine's own branch can be checked here."""
    answer = cpu_bf16.native_bf16_lstm()
    assert answer.native <= bool(cpu_flags() & set(cpu_bf16.NATIVE_FLAGS))
    lstm = torch.nn.LSTM(8, 16, batch_first=True)
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out, _ = lstm(torch.randn(2, 4, 8))
    except RuntimeError:
        assert not answer.native and "would raise" in answer.reason
    else:
        assert "would raise" not in answer.reason
        assert out.dtype == torch.bfloat16 or not answer.native


@pytest.fixture(params=[True, False], ids=["native", "not_native"])
def forced(request, monkeypatch) -> bool:
    """Both CPU branches on any machine: the detection's answer forced."""
    answer = CpuBf16(request.param, "forced by the test")
    monkeypatch.setattr(cpu_bf16, "native_bf16_lstm", lambda: answer)
    return request.param


def test_the_policy_follows_the_answer(forced):
    assert policy.lstm_dtype("cpu", "bf16-mixed") == (torch.bfloat16 if forced else torch.float32)
    assert policy.lstm_dtype("cpu", "32") == torch.float32
    assert policy.recommended_precision("cpu") == ("bf16-mixed" if forced else "32")
    assert policy.lstm_dtype("cuda", "16-mixed") == torch.float16  # the GPU's policy does not hear of it
    assert policy.lstm_dtype("cuda", "bf16-mixed") == torch.float32


def test_the_network_keeps_its_lstm_in_autocast_only_where_native_and_its_state_float32(forced):
    """The LSTM's own call is stood in for by what native oneDNN returns (bfloat16 output and state): with
    oneDNN off, PyTorch's own kernel runs it in float32 on any CPU, and a hook casts its result as oneDNN would."""
    model = MozartLSTM(
        NetworkConfig(12, **network_settings(embedding_dim=8, hidden_size=16, num_layers=2, linear_sizes=(8,)))
    )
    seen = {}

    def as_native_onednn(module, inputs, output):
        seen["autocast"] = torch.is_autocast_enabled("cpu")
        out, (h, c) = output
        return (out.bfloat16(), (h.bfloat16(), c.bfloat16())) if seen["autocast"] else output

    model.lstm.register_forward_hook(as_native_onednn)
    model.head[2].register_forward_hook(lambda module, inputs, output: seen.update(head=output.dtype))
    with torch.backends.mkldnn.flags(enabled=False), torch.autocast("cpu", dtype=torch.bfloat16):
        _, state = model(torch.randint(0, 12, (4, 8)))
        _, carried = model(torch.randint(0, 12, (4, 8)), state)  # a state carried into the next batch
    assert seen == {"autocast": forced, "head": torch.bfloat16}
    assert [s.dtype for s in (*state, *carried)] == [torch.float32] * 4


@pytest.mark.parametrize(("accelerator", "device"), [("cpu", "cpu"), ("gpu", "cuda"), ("cuda", "cuda"), ("mps", "mps")])
def test_auto_resolves_by_the_accelerator(forced, accelerator, device):
    chosen, note = policy.resolve_precision("auto", accelerator)
    assert chosen == policy.recommended_precision(device)
    assert note.startswith(f"trainer.precision=auto chose {chosen} on {device}: ")
    assert policy.resolve_precision(32, accelerator) == (32, None)  # a precision set by hand stays


def test_the_cpu_notice_says_which_precision_and_why(tmp_path):
    cfg = OmegaConf.create({"trainer": {"max_time": "00:00:52:00", "precision": "32"}, "callbacks": {}})
    _, note = policy.resolve_precision("auto", "cpu")
    lines = cpu_fallback_notice(cfg, tmp_path, note).splitlines()
    [line] = [line for line in lines if "Precision:" in line]
    assert note in line and cpu_bf16.native_bf16_lstm().reason in line
    assert "trainer.precision=32, as set" in cpu_fallback_notice(cfg, tmp_path)


@pytest.mark.slow
@pytest.mark.usefixtures("single_torch_thread")
def test_make_trains_cpu_branch_runs_at_the_chosen_precision(make_train_cfg, caplog, forced):
    """`make train`'s overrides on a CPU, both branches; in every training step the LSTM runs in the dtype the branch
    promises (bfloat16 under autocast where native, else float32) and the head at the chosen precision. Native is
    run with oneDNN off where this machine has no bfloat16 LSTM (PyTorch's own kernel takes the LSTM, in float32
    whatever autocast asks): there only the autocast the LSTM is called under can be checked."""
    from mozart_lstm.train import run

    onednn = not forced or cpu_bf16.decide(cpu_bf16.machine_facts()).native
    seen = {"lstm": set(), "lstm_out": set(), "head": set()}

    def record(module, inputs, output):
        if not module.training:
            return
        if isinstance(module, torch.nn.LSTM):
            autocast = torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else None
            seen["lstm"].add(autocast or inputs[0].dtype)
            seen["lstm_out"].add(output[0].dtype)
        elif isinstance(module, torch.nn.Linear):
            seen["head"].add(output.dtype)

    cfg = make_train_cfg("trainer.precision=auto", "cpu_fallback=true", "trainer.accelerator=cpu")
    hook = torch.nn.modules.module.register_module_forward_hook(record)
    try:
        with torch.backends.mkldnn.flags(enabled=onednn), caplog.at_level(logging.INFO):
            metrics = run(cfg)
    finally:
        hook.remove()
    assert cfg.trainer.precision == ("bf16-mixed" if forced else "32")
    chosen = torch.bfloat16 if forced else torch.float32
    assert seen["lstm"] == seen["head"] == {chosen}
    if onednn:  # oneDNN's LSTM returns the dtype it ran in
        assert seen["lstm_out"] == {chosen}
    notice = next(r.getMessage() for r in caplog.records if "No CUDA GPU here" in r.getMessage())
    assert f"trainer.precision=auto chose {cfg.trainer.precision} on cpu: forced by the test" in notice
    assert all(torch.isfinite(torch.tensor(value)) for value in metrics.values())


def bench_report(bf16_peak: float, lstm_dtype: str) -> dict:
    train = {"id": "train", "met": False, "b": {"label": "project bf16-mixed"}}
    train["lstm_dtype"] = {"32": "float32", "bf16-mixed": lstm_dtype}
    machine = {"cpu_capability": "AVX512", "cpu_bf16": {"native": False, "reason": "the reason"}}
    return {"physics": {"matmul_peak_flops": {"float32": 80e9, "bfloat16": bf16_peak}}, "machine": machine,
            "cases": [train]}  # fmt: skip


@pytest.mark.parametrize(
    ("bf16_peak", "lstm_dtype", "starts", "says"),
    [
        (1e9, "float32", "a physical limit:", "no fast bfloat16 arithmetic"),  # this AVX2 EPYC
        (180e9, "float32", "not a physical limit:", "the LSTM, nearly all the FLOPs, ran in float32"),  # issue 29
        (180e9, "bfloat16", "not a physical limit:", "profile the step"),
    ],
)
def test_the_bench_verdict_says_physical_only_where_it_is(bf16_peak, lstm_dtype, starts, says):
    verdict = _train_reason(bench_report(bf16_peak, lstm_dtype))
    assert verdict.startswith(starts) and says in verdict
