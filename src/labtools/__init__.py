"""What both applications share, standard library only: the user-error type and its one-line reporter, atomic
writes, number checks for config values, free memory, and package names imported on first use. Importing it loads
neither torch nor music21, so inverse.py stays free of the music stack."""
