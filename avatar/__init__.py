"""Avatar models, their renderers, idle life, expressions and lip sync.

A library without a Qt event loop of its own: the overlay drives it, the bot uses
its lip-sync timing to attach viseme timelines to speech.
"""
