"""Talking Head Anime 3: an anime character posed from one 512x512 PNG by neural networks.

vtbot's own PyTorch implementation of the THA3 poser, loading the official weights
unchanged, and the animator that turns vtbot's signals (visemes, blinks, emotions,
idle motion) into THA3's pose vector.
"""
