"""Reads for the console's screens: one module per pane, each function takes the store (and
the instant) and returns frozen dataclasses."""
