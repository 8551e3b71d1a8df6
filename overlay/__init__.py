"""The overlay process: a transparent OpenGL window that OBS captures (link client,
audio player, avatar, VFX, captions, hotkeys)."""
