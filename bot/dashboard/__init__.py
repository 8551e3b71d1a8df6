"""The terminal dashboard `vtbot run` shows: what the bot does, and keys to take over."""
