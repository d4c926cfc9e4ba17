"""mozart-lstm: an LSTM that composes Mozart-like piano music.

Kept free of heavy imports so that `import mozart_lstm.errors` (used by the entry scripts) stays instant.
"""

__version__ = "0.1.0"
