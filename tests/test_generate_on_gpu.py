"""generate.py's GPU side with CUDA mocked: the device index, the GPU memory estimate, and the order of work."""

import pytest
import torch
from omegaconf import OmegaConf

from labtools.errors import UserError
from mozart_lstm import generate
from mozart_lstm.composing.budget import check_fits_on_device, device_bytes
from mozart_lstm.models import MozartLSTM, NetworkConfig
from tests.defaults import network_settings

pytestmark = pytest.mark.usefixtures("single_torch_thread")
SETTINGS = OmegaConf.create({"n_notes": 500, "num_samples": 64})


@pytest.fixture
def one_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


def test_a_gpu_index_past_the_machines_gpus_is_one_line(one_gpu):
    with pytest.raises(UserError, match=r"device='cuda:3': this machine has 1 CUDA GPU\(s\), cuda:0 to cuda:0"):
        generate.pick_device("cuda:3")
    assert generate.pick_device("cuda:0") == torch.device("cuda", 0)
    assert generate.pick_device("cuda") == torch.device("cuda")
    assert generate.pick_device("mps:0") == torch.device("mps", 0)


def tiny_model() -> MozartLSTM:
    return MozartLSTM(
        NetworkConfig(40, **network_settings(embedding_dim=8, hidden_size=16, num_layers=2, linear_sizes=(8,)))
    )


def test_generation_that_needs_more_gpu_memory_than_is_free_is_refused(monkeypatch):
    model = tiny_model()
    needed = device_bytes(model, SETTINGS.num_samples, 100 + SETTINGS.n_notes, 100)
    assert needed > sum(p.numel() * 4 for p in model.parameters())
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (int(needed) - 1, 2 * int(needed)))
    with pytest.raises(UserError, match="num_samples=64: generating on cuda:0 needs about .* GPU memory"):
        check_fits_on_device(SETTINGS, torch.device("cuda", 0), model, 100)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (int(needed) + 1, 2 * int(needed)))
    check_fits_on_device(SETTINGS, torch.device("cuda", 0), model, 100)


def test_on_the_cpu_no_gpu_memory_is_asked_for(monkeypatch):
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: pytest.fail("asked CUDA on a CPU run"))
    check_fits_on_device(SETTINGS, torch.device("cpu"), tiny_model(), 100)


class Stop(Exception):
    pass


def test_the_model_moves_to_its_device_only_after_the_data_is_rebuilt(compose_cfg, tiny_ckpt, tmp_path, monkeypatch):
    """Rebuilding the token cache may fork music21 workers: they must not fork from a process holding CUDA."""
    events = []

    def rebuild(ckpt):
        events.append("data")
        raise Stop

    monkeypatch.setattr(generate, "rebuild_data", rebuild)
    monkeypatch.setattr(MozartLSTM, "to", lambda self, *args, **kwargs: events.append("to") or self)
    with pytest.raises(Stop):
        generate.run(compose_cfg("generate", [f"ckpt={tiny_ckpt}", f"paths.output_dir={tmp_path}"]))
    assert events == ["data"]


def test_the_tf32_switch_is_checked(compose_cfg, tiny_ckpt, tmp_path):
    cfg = compose_cfg("generate", [f"ckpt={tiny_ckpt}", f"paths.output_dir={tmp_path}", "cudnn_tf32=maybe"])
    with pytest.raises(UserError, match="cudnn_tf32='maybe': must be true"):
        generate.run(cfg)
