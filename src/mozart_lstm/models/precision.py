"""The precision policy: in which dtype the LSTM runs under each `trainer.precision` on each device.

Autocast alone would decide badly for this network, which spends nearly all its FLOPs in the LSTM:
- CUDA: PyTorch's autocast kernel for cuDNN RNNs (aten/src/ATen/cudnn/AutocastRNN.cpp) casts input, weights and
  states to float16 whatever dtype autocast was asked for. Under `16-mixed` that is what Lightning's GradScaler
  covers. Under `bf16-mixed` there is no GradScaler, so the LSTM would run in float16 with unscaled gradients,
  which can underflow through 100 steps of backpropagation without a sign.
- CPU: oneDNN runs a bfloat16 LSTM in hardware only on CPUs with avx512_bf16 or amx_bf16; elsewhere it emulates
  bfloat16 (slower than float32) or, without AVX-512, raises. `cpu_bf16.native_bf16_lstm()` tells which.
- MPS: what autocast does to an LSTM there is unverified; float32 is the safe side.
So the LSTM stays under autocast for (cuda, float16) and, where the CPU has a native bfloat16 LSTM, for
(cpu, bfloat16); otherwise it runs in float32 outside autocast. The head (Linear, BatchNorm) follows autocast
everywhere. The state it hands back is float32 in every case, so a state carried to the next batch or token
never accumulates 16-bit rounding. Why and what was measured: docs/cpu_bf16.md, docs/gpu.md.
"""

import torch

from labtools.errors import UserError
from mozart_lstm.models import cpu_bf16

# Lightning's mixed precisions and the dtype each asks autocast for
AUTOCAST_DTYPES = {"16-mixed": torch.float16, "bf16-mixed": torch.bfloat16}
# the cuDNN RNN autocast kernel's dtype, whatever autocast asks for
CUDNN_RNN_AUTOCAST_DTYPE = torch.float16
# trainer.precision per device type, what trainer.precision=auto resolves to: on CUDA the one whose GradScaler
# covers cuDNN's float16 LSTM; on a CPU bf16-mixed where its LSTM is native bfloat16 (1.6-1.9x faster per step
# on the EPYC, docs/cpu_bf16.md), else float32; MPS is unverified, so float32
# ("32" is Lightning's "32-true", the name conf/trainer and bench/gpu_check.py use)
RECOMMENDED = {"cuda": "16-mixed", "mps": "32"}
CPU_RECOMMENDED = {True: "bf16-mixed", False: "32"}


def lstm_autocast_dtype(device_type: str) -> torch.dtype | None:
    """The autocast dtype under which the LSTM may stay in autocast on `device_type`, or None for none."""
    if device_type == "cuda":
        return CUDNN_RNN_AUTOCAST_DTYPE
    if device_type == "cpu" and cpu_bf16.native_bf16_lstm().native:
        return torch.bfloat16
    return None


def lstm_leaves_autocast(device_type: str, autocast_dtype: torch.dtype) -> bool:
    """Whether the LSTM runs in float32 outside an autocast region of `autocast_dtype` on `device_type`."""
    return autocast_dtype != lstm_autocast_dtype(device_type)


def lstm_must_leave_autocast(device_type: str) -> bool:
    """The policy applied to the autocast state in force now (what MozartLSTM.forward consults)."""
    if not torch.is_autocast_enabled(device_type):
        return False
    return lstm_leaves_autocast(device_type, torch.get_autocast_dtype(device_type))


def lstm_dtype(device_type: str, precision: str) -> torch.dtype:
    """The dtype the LSTM's matmuls run in under `trainer.precision=<precision>` on `device_type`, by the policy.

    Only the mixed precisions are Lightning's autocast; "32", "32-true" and the rest leave autocast off, and the
    LSTM runs in its weights' dtype (float32 for the project's checkpoints).
    """
    autocast_dtype = AUTOCAST_DTYPES.get(precision)
    if autocast_dtype is None or lstm_leaves_autocast(device_type, autocast_dtype):
        return torch.float32
    return autocast_dtype


def recommended_precision(device_type: str) -> str:
    if device_type == "cpu":
        return CPU_RECOMMENDED[cpu_bf16.native_bf16_lstm().native]
    return RECOMMENDED.get(device_type, "32")


def precision_reason(device_type: str) -> str:
    """One line: why recommended_precision(device_type) is what it is."""
    if device_type == "cpu":
        return cpu_bf16.native_bf16_lstm().reason
    if device_type == "cuda":
        return "cuDNN runs the LSTM in float16 under autocast, and 16-mixed's GradScaler covers it"
    return f"what autocast does to an LSTM on {device_type} is unverified: float32"


def accelerator_device_type(accelerator: str) -> str:
    """The torch device type a Trainer with `trainer.accelerator=<accelerator>` trains on (Lightning's "auto" picks
    CUDA, then MPS, then the CPU)."""
    if accelerator == "auto":
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if torch.backends.mps.is_available() else "cpu"
    return {"gpu": "cuda"}.get(accelerator, accelerator)


def resolve_precision(precision, accelerator: str) -> tuple[str, str | None]:
    """`trainer.precision` as the Trainer takes it, and for `auto` one line saying what it chose and why."""
    if str(precision) != "auto":
        return precision, None
    device_type = accelerator_device_type(str(accelerator))
    chosen = recommended_precision(device_type)
    return chosen, f"trainer.precision=auto chose {chosen} on {device_type}: {precision_reason(device_type)}"


def set_cudnn_tf32(enabled: bool) -> None:
    """TF32 for cuDNN's float32 RNN kernels: on by PyTorch's default (faster on Ampere and later GPUs; results
    differ from a CPU's at about 1e-3, so argmax generation can drift between them). Off: IEEE float32.
    `enabled` is the config key `cudnn_tf32` of train.py and generate.py."""
    if not isinstance(enabled, bool):
        raise UserError(f"cudnn_tf32={enabled!r}: must be true (PyTorch's default) or false (IEEE float32)")
    torch.backends.cudnn.rnn.fp32_precision = "tf32" if enabled else "ieee"
