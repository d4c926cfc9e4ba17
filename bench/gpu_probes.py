"""The two in-process probes of bench/gpu.sh: the dtype the LSTM really runs in, and argmax tokens CPU vs device."""

import contextlib

import torch
from pytorch_lightning.plugins.precision import MixedPrecision

from mozart_lstm.composing.sampling import generate_ids
from mozart_lstm.models import MozartLSTM, NetworkConfig, read_checkpoint
from mozart_lstm.models.precision import AUTOCAST_DTYPES, lstm_dtype, set_cudnn_tf32

PROBE_NETWORK = NetworkConfig(
    64,
    embedding_dim=32,
    hidden_size=128,
    num_layers=2,
    dropout=0.3,
    linear_sizes=(64,),
    embedding_dropout=0.0,
    weight_drop=0.0,
    head_batchnorm=True,
)
SAMPLES = 4


def _dtype_name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def lstm_dtypes(device: torch.device, precision: str) -> dict[str, str]:
    """Under Lightning's own autocast for `precision`: the LSTM's output dtype inside MozartLSTM (the policy's
    doing) and that of a bare nn.LSTM call (what autocast alone does), one training step each."""
    torch.manual_seed(0)
    net = MozartLSTM(PROBE_NETWORK).to(device)
    seen = {}
    net.lstm.register_forward_hook(lambda module, inputs, output: seen.update(network=output[0].dtype))
    mixed = precision in AUTOCAST_DTYPES
    context = MixedPrecision(precision, device.type).forward_context() if mixed else contextlib.nullcontext()
    x = torch.randint(0, PROBE_NETWORK.vocab_size, (8, 16), device=device)
    with context:
        log_probs, _ = net(x)
        try:
            bare = _dtype_name(torch.nn.LSTM(32, 32, batch_first=True).to(device)(net.embedding(x))[0].dtype)
        except RuntimeError as err:  # oneDNN's bfloat16 LSTM on CPUs without AVX-512
            bare = f"raises ({str(err).splitlines()[0][:80]})"
    log_probs.float().sum().backward()
    return {"network": _dtype_name(seen["network"]), "autocast_alone": bare}


def precision_probe(device: torch.device, precisions: list[str]) -> tuple[bool, dict]:
    """PASS when the LSTM runs in the policy's dtype under every precision."""
    figures, passed = {}, True
    for precision in precisions:
        found = lstm_dtypes(device, precision)
        found["policy"] = _dtype_name(lstm_dtype(device.type, precision))
        passed &= found["network"] == found["policy"]
        figures[precision] = found
    return passed, figures


def _first_divergence(ids: torch.Tensor, reference: torch.Tensor) -> list[int]:
    """Per sample: the index of the first generated token that differs, or the count when none does."""
    differ = ids != reference
    return [int(row.nonzero()[0]) if row.any() else len(row) for row in differ]


def argmax_agreement(ckpt, device: torch.device, notes: int) -> tuple[bool, dict]:
    """Argmax tokens of the same seeds on the CPU and on `device`, with cuDNN's TF32 on and off. PASS when the
    first generated token agrees in every sample with TF32 off (later tokens may drift: one flip changes all
    that follows)."""
    saved = read_checkpoint(ckpt)
    window = saved.data_settings["seq_len"]
    seeds = torch.randint(len(saved.vocab), (SAMPLES, window), generator=torch.Generator().manual_seed(0))
    on_cpu = generate_ids(saved.build_network(), seeds, notes)[:, window:]
    figures = {}
    try:
        for tf32 in (True, False):
            set_cudnn_tf32(tf32)
            ids = generate_ids(saved.build_network().to(device), seeds, notes)[:, window:]
            figures[f"tf32_{'on' if tf32 else 'off'}"] = {
                "agreeing_share": float((ids == on_cpu).float().mean()),
                "first_divergence": _first_divergence(ids, on_cpu),
            }
    finally:
        set_cudnn_tf32(True)
    return min(figures["tf32_off"]["first_divergence"]) > 0, figures
