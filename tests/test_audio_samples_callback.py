"""The AudioSamples training callback logs a sample to TensorBoard as audio and as a piano-roll image, and the
music's features beside Mozart's as scalars."""

from pathlib import Path

import pytest
from omegaconf import OmegaConf, open_dict
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from mozart_lstm.callbacks.audio_samples import AudioSamples
from mozart_lstm.train import run

pytestmark = pytest.mark.usefixtures("single_torch_thread")
CONF = Path(__file__).resolve().parents[1] / "conf"


def test_every_n_epochs_a_sample_is_logged_as_audio_and_image(tiny_train_cfg, tmp_path):
    entry = OmegaConf.load(CONF / "callbacks" / "audio_samples.yaml").audio_samples
    entry.every_n_epochs, entry.n_notes = 2, 12
    with open_dict(tiny_train_cfg):
        tiny_train_cfg.callbacks.audio_samples = entry
        tiny_train_cfg.trainer.max_epochs = 3
    run(tiny_train_cfg)
    guidance = {"audio": 0, "images": 0, "scalars": 0}
    events = EventAccumulator(str(tmp_path / "tensorboard"), size_guidance=guidance).Reload()
    [audio] = events.Audio("samples/audio")  # epoch 2 only: every second epoch
    assert audio.sample_rate == 22050
    assert audio.length_frames == pytest.approx((12 * 0.5 * 0.5 + 0.32) * 22050, abs=2)
    [image] = events.Images("samples/piano_roll")
    assert image.width > 500 and image.height > 200
    assert audio.step == image.step > 0
    for tag in ("music/pitch_class_entropy", "music/scale_consistency", "music_reference/pitch_class_entropy"):
        [scalar] = events.Scalars(tag)
        assert scalar.step == audio.step and 0.0 <= scalar.value <= 3.6  # 0 to log2(12) bits, or a share
    [overlap] = events.Scalars("music/overlap")
    assert 0.0 <= overlap.value <= 1.0
    assert events.Scalars("music/kl")[0].value >= 0.0


def test_bad_settings_fail_when_the_callback_is_built():
    with pytest.raises(ValueError, match="every_n_epochs"):
        AudioSamples(every_n_epochs=0)
    with pytest.raises(ValueError, match="top_p"):
        AudioSamples(sampling="temperature", top_p=0)
    with pytest.raises(ValueError, match="num_samples"):
        AudioSamples(num_samples=0)
