"""The AudioSamples training callback logs a sample to TensorBoard as audio and as a piano-roll image, and the
music's features beside Mozart's as scalars."""

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from labtools.errors import UserError
from mozart_lstm.callbacks.audio_samples import AudioSamples
from mozart_lstm.composing.sampler_choice import AUTO_MODE, CalibratedSampler, choose_sampler
from mozart_lstm.composing.sampling import Sampler
from mozart_lstm.generate import build_options
from mozart_lstm.tokenizers import Rhythm
from mozart_lstm.train import instantiate, instantiate_entries, run

pytestmark = pytest.mark.usefixtures("single_torch_thread")


def test_every_n_epochs_a_sample_is_logged_as_audio_and_image(make_train_cfg, tmp_path):
    audio = ("callbacks=[default,audio_samples]", "callbacks.audio_samples.every_n_epochs=2")
    run(make_train_cfg(*audio, "callbacks.audio_samples.n_notes=12", "trainer.max_epochs=3"))
    guidance = {"audio": 0, "images": 0, "scalars": 0}
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"), size_guidance=guidance).Reload()
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
    with pytest.raises(ValueError, match="num_samples"):
        AudioSamples(num_samples=0)


def test_the_callback_builds_its_sampler_and_rhythm_from_generates_group_files(make_train_cfg, compose_cfg):
    picks = ("sampler=temperature", "sampler.top_p=0.9", "rhythm.offset=fixed")
    generate_cfg = compose_cfg("generate", ["ckpt=any", *picks])
    sampler, rhythm = build_options(generate_cfg)
    train_cfg = make_train_cfg(
        "callbacks=[default,audio_samples]",
        "sampler@callbacks.audio_samples.sampler=temperature",
        "callbacks.audio_samples.sampler.top_p=0.9",
        "callbacks.audio_samples.rhythm.offset=fixed",
    )
    [callback] = [c for c in instantiate_entries(train_cfg.callbacks, "callbacks") if isinstance(c, AudioSamples)]
    assert callback.sampling["sampler"] == sampler == Sampler("temperature", top_p=0.9)
    assert callback.rhythm == rhythm == Rhythm("fixed")


def test_the_callback_samples_as_generate_does_for_a_checkpoint_not_yet_calibrated(make_train_cfg, compose_cfg):
    # mid-run there is no calibration yet: generate.py's default (the calibrated sampler) falls back to argmax,
    # which is what the callback uses
    given, rhythm = build_options(compose_cfg("generate", ["ckpt=any"]))
    assert isinstance(given, CalibratedSampler) and rhythm == Rhythm()
    fallback, _, _ = choose_sampler(given, None, AUTO_MODE, "any.ckpt")
    callback = instantiate(make_train_cfg("callbacks=[default,audio_samples]").callbacks.audio_samples, "callbacks")
    assert (callback.sampling["sampler"], callback.rhythm) == (fallback, rhythm) == (Sampler(), Rhythm())


def test_a_bad_sampler_field_of_the_callback_is_one_line_naming_its_full_key(make_train_cfg):
    cfg = make_train_cfg("callbacks=[default,audio_samples]", "callbacks.audio_samples.sampler.temperature=0")
    with pytest.raises(UserError) as caught:
        instantiate_entries(cfg.callbacks, "callbacks")
    assert str(caught.value) == "callbacks.audio_samples.sampler.temperature=0: must be a finite number > 0"
