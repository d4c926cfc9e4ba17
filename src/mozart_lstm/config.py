"""Objects built from the config through `_target_`, with config mistakes turned into one-line UserErrors.

Shared by train.py and generate.py; Lightning is not imported here, so generate.py can build its sampler and
rhythm and report a bad setting before the slow imports.
"""

import hydra
from hydra.errors import InstantiationException

from labtools.errors import SettingError, UserError

# What a config mistake raises inside a constructor; anything else is a bug and keeps its traceback.
CONFIG_ERRORS = (TypeError, ValueError, ImportError)
FULL_KEY = "\nfull_key: "  # how Hydra ends its message with the path of the node that failed


def instantiate(cfg, key: str, config_errors: tuple = CONFIG_ERRORS, **kwargs):
    """hydra.utils.instantiate with plain Python values (never OmegaConf containers, which would keep
    checkpoints from loading with weights_only=True). A SettingError becomes `<path of its node>.<message>`,
    e.g. `callbacks.audio_samples.sampler.temperature=0: ...`; any other config mistake `<key>: <Hydra's message>`."""
    try:
        return hydra.utils.instantiate(cfg, _convert_="all", **kwargs)
    except InstantiationException as err:
        cause = err.__cause__
        if isinstance(cause, UserError):
            raise cause from None
        if isinstance(cause, SettingError):
            _, found, path = str(err).rpartition(FULL_KEY)
            raise UserError(f"{path.strip() if found else key}.{cause}") from None
        if cause is None or isinstance(cause, config_errors):
            raise UserError(f"{key}: " + " ".join(str(err).split())) from err
        raise
