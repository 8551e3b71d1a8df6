"""vtbot's bot process: config, CLI, brain, speech and the composition root."""

__version__ = "0.1.0"
