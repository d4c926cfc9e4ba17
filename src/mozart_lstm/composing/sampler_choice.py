"""Which sampler `generate.py` composes with: the one given (`sampler=argmax|temperature`), or with
`sampler=calibrated` (the default) the one the checkpoint's run calibrated (composing/calibration.py), else the
lab's argmax, with one line saying which and why.
"""

from dataclasses import dataclass

from labtools.errors import SettingError
from mozart_lstm.composing.calibration import describe
from mozart_lstm.composing.sampling import ARGMAX, MODES, SAMPLINGS, Sampler

# generate.py's `sampler=calibrated` (the default) and `mode=auto`
CALIBRATED = "calibrated"
AUTO_MODE = "auto"
UNCALIBRATED_HINT = "sampler=temperature sampler.temperature=1.0 sampler.top_p=0.95 mode=stateful"


@dataclass(frozen=True)
class CalibratedSampler:
    """`sampler=calibrated` (conf/sampler/calibrated.yaml) before the checkpoint is read. A field given on the
    command line replaces the calibrated value; each is checked here as a temperature Sampler checks it."""

    sampling: str = CALIBRATED
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    repetition_penalty: float | None = None

    def __post_init__(self):
        if self.sampling != CALIBRATED:
            raise SettingError(
                f"sampling={self.sampling!r}: must be one of {SAMPLINGS}, chosen with sampler=<name>, or {CALIBRATED}"
            )
        Sampler("temperature", **self.fields)

    @property
    def fields(self) -> dict:
        names = ("temperature", "top_k", "top_p", "repetition_penalty")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


def choose_sampler(given, calibration: dict | None, mode: str, ckpt_path) -> tuple[Sampler, str, str]:
    """(sampler, mode, the line that says which and why) for a run of generate.py; `given` is a Sampler, or a
    CalibratedSampler for `sampler=calibrated`; `mode=auto` is the calibration's mode with its sampler, else the
    lab's window loop."""
    window = MODES[0] if mode == AUTO_MODE else mode
    if isinstance(given, Sampler):
        return given, window, f"sampler={given.sampling}, as given"
    if calibration is not None:
        sampler = Sampler(**calibration["sampler"] | given.fields)
        as_given = "".join(f", sampler.{key}={value} as given" for key, value in given.fields.items())
        chosen_mode = calibration["mode"] if mode == AUTO_MODE else mode
        return sampler, chosen_mode, f"the checkpoint's calibrated sampler: {describe(calibration)}{as_given}"
    if given.fields:
        return (
            Sampler("temperature", **given.fields),
            window,
            f"{ckpt_path} has no calibrated sampler: temperature sampling as given",
        )
    why = (
        f"{ckpt_path} has no calibrated sampler (its run had no validation split): composing with argmax, the lab's "
        f"generator; for music closer to Mozart's pass {UNCALIBRATED_HINT}"
    )
    return ARGMAX, window, why
