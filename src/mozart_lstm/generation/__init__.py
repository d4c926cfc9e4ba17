"""Composing with a trained model: Problem 4 (`predict_notes`) and Problem 5 (`write_midi`)."""

from mozart_lstm.generation.music import write_midi
from mozart_lstm.generation.sampling import predict_notes

__all__ = ["predict_notes", "write_midi"]
