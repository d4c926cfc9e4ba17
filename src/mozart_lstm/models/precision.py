"""The precision policy: in which dtype the LSTM runs under each `trainer.precision` on each device.

Autocast alone would decide badly for this network, which spends nearly all its FLOPs in the LSTM:
- CUDA: PyTorch's autocast kernel for cuDNN RNNs (aten/src/ATen/cudnn/AutocastRNN.cpp) casts input, weights and
  states to float16 whatever dtype autocast was asked for. Under `16-mixed` that is what Lightning's GradScaler
  covers. Under `bf16-mixed` there is no GradScaler, so the LSTM would run in float16 with unscaled gradients,
  which can underflow through 100 steps of backpropagation without a sign.
- CPU: oneDNN has no bfloat16 LSTM on CPUs without AVX-512 and raises.
- MPS: what autocast does to an LSTM there is unverified; float32 is the safe side.
So the LSTM stays under autocast only for (cuda, float16) and otherwise runs in float32 outside it; the head
(Linear, BatchNorm) follows autocast everywhere. On CUDA, `16-mixed` is therefore the precision that speeds the
LSTM up; under `bf16-mixed` its float32 matmuls still use TF32 tensor cores (see `set_cudnn_tf32`).
"""

import torch

from labtools.errors import UserError

# Lightning's mixed precisions and the dtype each asks autocast for
AUTOCAST_DTYPES = {"16-mixed": torch.float16, "bf16-mixed": torch.bfloat16}
# the cuDNN RNN autocast kernel's dtype, whatever autocast asks for
CUDNN_RNN_AUTOCAST_DTYPE = torch.float16
# trainer.precision per device type: on CUDA the one whose GradScaler covers cuDNN's float16 LSTM; on a CPU
# bf16-mixed ran no faster (docs/benchmark.md) and MPS is unverified, so float32
RECOMMENDED = {"cuda": "16-mixed", "cpu": "32", "mps": "32"}


def lstm_leaves_autocast(device_type: str, autocast_dtype: torch.dtype) -> bool:
    """Whether the LSTM runs in float32 outside an autocast region of `autocast_dtype` on `device_type`."""
    return not (device_type == "cuda" and autocast_dtype == CUDNN_RNN_AUTOCAST_DTYPE)


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
    return CUDNN_RNN_AUTOCAST_DTYPE


def recommended_precision(device_type: str) -> str:
    return RECOMMENDED.get(device_type, "32")


def set_cudnn_tf32(enabled: bool) -> None:
    """TF32 for cuDNN's float32 RNN kernels: on by PyTorch's default (faster on Ampere and later GPUs; results
    differ from a CPU's at about 1e-3, so argmax generation can drift between them). Off: IEEE float32.
    `enabled` is the config key `cudnn_tf32` of train.py and generate.py."""
    if not isinstance(enabled, bool):
        raise UserError(f"cudnn_tf32={enabled!r}: must be true (PyTorch's default) or false (IEEE float32)")
    torch.backends.cudnn.rnn.fp32_precision = "tf32" if enabled else "ieee"
