"""Fixtures shared by the reliability tests."""

import pytest

from mozart_lstm.data import datamodule, tokenize


@pytest.fixture
def no_file_access(monkeypatch):
    """Any look for MIDI files fails the test: settings must be refused before that."""

    def touched(*args, **kwargs):
        raise AssertionError("the data was touched before the settings were checked")

    monkeypatch.setattr(tokenize, "midi_files", touched)
    monkeypatch.setattr(datamodule, "load_pieces", touched)
