"""Whether this CPU runs a bfloat16 LSTM natively: the question the precision policy asks before letting CPU
autocast have the LSTM (docs/cpu_bf16.md).

Under CPU autocast PyTorch hands the LSTM to oneDNN in bfloat16. What oneDNN does with it depends on the CPU:
- without AVX-512 (e.g. an AVX2 AMD EPYC) it has no bfloat16 LSTM and raises ("could not create a primitive
  descriptor for the LSTM forward propagation primitive");
- with AVX-512 but without bfloat16 instructions (Skylake, Cascade Lake) it emulates them with AVX-512 integer
  code, which is slower than float32;
- with `avx512_bf16` (Cooper Lake, AMD Zen 4 and later) or `amx_bf16` (Sapphire Rapids) it runs bfloat16 dot
  products in hardware: the issue's EPYC measured the recipe's LSTM step 1.87x faster than in float32.
ONEDNN_MAX_CPU_ISA (formerly DNNL_MAX_CPU_ISA) can cap what oneDNN uses: a cap below avx512_core_bf16 is honoured.
torch's own CPU capability (ATen's vector kernels, not oneDNN's) is reported beside the answer, not decisive.
"""

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import torch

NATIVE_FLAGS = ("avx512_bf16", "amx_bf16")
# oneDNN's ISA names in increasing order (dnnl_cpu_isa_t); avx512_core_bf16 is the first with bf16 hardware
ONEDNN_ISAS = (
    "SSE41",
    "AVX",
    "AVX2",
    "AVX2_VNNI",
    "AVX2_VNNI_2",
    "AVX512_CORE",
    "AVX512_CORE_VNNI",
    "AVX512_CORE_BF16",
    "AVX10_1_512",
    "AVX512_CORE_FP16",
    "AVX10_1_512_AMX",
    "AVX512_CORE_AMX",
    "AVX10_1_512_AMX_FP16",
    "AVX512_CORE_AMX_FP16",
)
ONEDNN_UNCAPPED = ("", "ALL", "DEFAULT")


@dataclass(frozen=True)
class CpuBf16:
    """The answer: `native` when oneDNN runs the LSTM in bfloat16 hardware here, and why, in one line."""

    native: bool
    reason: str


@dataclass(frozen=True)
class CpuFacts:
    """What the answer is decided from; each field as the machine reports it."""

    capability: str  # torch.backends.cpu.get_cpu_capability(): "AVX2", "AVX512", ...
    onednn: bool  # oneDNN built in and enabled (torch.backends.mkldnn)
    onednn_bf16: bool | None  # torch.ops.mkldnn._is_mkldnn_bf16_supported(); None where torch lacks it
    flags: frozenset[str]  # /proc/cpuinfo's flags
    max_isa: str  # ONEDNN_MAX_CPU_ISA, upper case; "" when unset


def decide(facts: CpuFacts) -> CpuBf16:
    """Native only when every layer agrees: oneDNN on and bf16-capable, the CPU's bf16 instructions present, and
    no ONEDNN_MAX_CPU_ISA cap below them. The first that fails names the reason."""
    seen = _seen(facts)
    if not facts.onednn:
        return CpuBf16(False, f"oneDNN is off in this torch, so a bfloat16 LSTM would be emulated ({seen})")
    if facts.onednn_bf16 is False:
        return CpuBf16(False, f"oneDNN has no bfloat16 LSTM on this CPU: bf16 autocast would raise ({seen})")
    if not facts.flags & set(NATIVE_FLAGS):
        return CpuBf16(False, f"this CPU has no bfloat16 instructions: oneDNN would emulate them, slower ({seen})")
    if facts.max_isa not in ONEDNN_UNCAPPED:
        if facts.max_isa not in ONEDNN_ISAS:
            return CpuBf16(False, f"ONEDNN_MAX_CPU_ISA={facts.max_isa} is not an ISA oneDNN names ({seen})")
        if ONEDNN_ISAS.index(facts.max_isa) < ONEDNN_ISAS.index("AVX512_CORE_BF16"):
            return CpuBf16(False, f"ONEDNN_MAX_CPU_ISA={facts.max_isa} keeps oneDNN below bfloat16 ({seen})")
    return CpuBf16(True, f"oneDNN runs the LSTM in bfloat16 hardware ({seen})")


def _seen(facts: CpuFacts) -> str:
    present = sorted(facts.flags & set(NATIVE_FLAGS))
    return f"torch {facts.capability}, " + ("flags " + "/".join(present) if present else "no avx512_bf16/amx_bf16 flag")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The first processor's flags; empty where there is no /proc/cpuinfo (macOS, Windows)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def machine_facts() -> CpuFacts:
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    max_isa = os.environ.get("ONEDNN_MAX_CPU_ISA", os.environ.get("DNNL_MAX_CPU_ISA", ""))
    return CpuFacts(
        capability=torch.backends.cpu.get_cpu_capability(),
        onednn=torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled,
        onednn_bf16=None if check is None else bool(check()),
        flags=cpu_flags(),
        max_isa=max_isa.strip().upper(),
    )


@functools.cache
def native_bf16_lstm() -> CpuBf16:
    """This machine's answer, found once per process (the network asks on every forward)."""
    return decide(machine_facts())
