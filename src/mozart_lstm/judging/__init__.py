"""The judge: how close composed music is to Mozart's held-out sonatas. It reads notes in time
(`mozart_lstm.notes.NoteEvent`), never tokens: one judge for every tokenization (tests/test_rooms.py)."""
