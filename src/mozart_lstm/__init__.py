"""mozart-lstm: an LSTM that composes Mozart-like piano music.

Kept free of heavy imports: importing a submodule should not load torch before it needs to.
"""

__version__ = "0.1.0"
