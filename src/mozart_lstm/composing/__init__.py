"""Composing with a trained model: sampling (Problem 4, `predict_notes`), who composes, the seed or primer, the
sampler calibrated on validation, and the files a piece is written to (Problem 5, `write_midi` of the notes a
tokenizer decodes). Composing may call the judge; the judge never calls back."""

from mozart_lstm.composing.midi_file import write_midi
from mozart_lstm.composing.sampling import predict_notes

__all__ = ["predict_notes", "write_midi"]
