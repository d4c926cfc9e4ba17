"""The precision policy: the LSTM's dtype for every (device, trainer.precision) pair, and the network obeying it.
Here the CPU is taken to have no native bfloat16 LSTM; the other branch: tests/test_cpu_bf16.py."""

import pytest
import torch

from mozart_lstm.models import MozartLSTM, NetworkConfig, cpu_bf16
from mozart_lstm.models import precision as policy
from tests.defaults import network_settings


@pytest.fixture(autouse=True)
def no_native_cpu_bf16(monkeypatch):
    monkeypatch.setattr(cpu_bf16, "native_bf16_lstm", lambda: cpu_bf16.CpuBf16(False, "forced by the test"))


# (device type, trainer.precision) -> the dtype the LSTM runs in; only CUDA's 16-mixed keeps cuDNN's float16
EXPECTED = {
    ("cuda", "16-mixed"): torch.float16,
    ("cuda", "bf16-mixed"): torch.float32,
    ("cuda", "32-true"): torch.float32,
    ("cpu", "16-mixed"): torch.float32,
    ("cpu", "bf16-mixed"): torch.float32,
    ("cpu", "32"): torch.float32,
    ("mps", "16-mixed"): torch.float32,
    ("mps", "bf16-mixed"): torch.float32,
    ("mps", "32-true"): torch.float32,
}


@pytest.mark.parametrize(("device_type", "precision"), list(EXPECTED))
def test_the_lstm_dtype_of_every_device_and_precision(device_type, precision):
    assert policy.lstm_dtype(device_type, precision) == EXPECTED[device_type, precision]


@pytest.mark.parametrize(("autocast_dtype", "leaves"), [(torch.bfloat16, True), (torch.float16, False)])
def test_under_cuda_autocast_only_bfloat16_takes_the_lstm_out(monkeypatch, autocast_dtype, leaves):
    """CUDA autocast, mocked: cuDNN would run the LSTM in float16 under bf16-mixed, which has no GradScaler."""
    monkeypatch.setattr(torch, "is_autocast_enabled", lambda device_type: device_type == "cuda")
    monkeypatch.setattr(torch, "get_autocast_dtype", lambda device_type: autocast_dtype)
    assert policy.lstm_must_leave_autocast("cuda") is leaves
    assert policy.lstm_must_leave_autocast("cpu") is False  # autocast is off there


def test_without_autocast_the_lstm_is_left_alone():
    assert not policy.lstm_must_leave_autocast("cpu")


def test_under_cpu_bf16_autocast_the_lstm_runs_in_float32_and_the_head_in_bfloat16():
    model = MozartLSTM(
        NetworkConfig(12, **network_settings(embedding_dim=8, hidden_size=16, num_layers=2, linear_sizes=(8,)))
    )
    seen = {}

    def record(name):
        def hook(module, inputs, output):
            seen[name] = (output[0] if isinstance(output, tuple) else output).dtype

        return hook

    model.lstm.register_forward_hook(record("lstm"))
    model.head[2].register_forward_hook(record("linear"))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        model(torch.randint(0, 12, (4, 8)))
    assert seen == {"lstm": torch.float32, "linear": torch.bfloat16}


@pytest.mark.parametrize("enabled", [False, True])
def test_the_tf32_switch_sets_cudnns_rnn_flag(enabled):
    before = torch.backends.cudnn.rnn.fp32_precision
    try:
        policy.set_cudnn_tf32(enabled)
        assert torch.backends.cudnn.rnn.fp32_precision == ("tf32" if enabled else "ieee")
    finally:
        torch.backends.cudnn.rnn.fp32_precision = before
