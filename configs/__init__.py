"""Shipped YAML configuration (defaults, example persona), read via importlib.resources."""
