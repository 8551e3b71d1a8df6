"""Twitch integration: logins and tokens (auth), later chat and events over EventSub."""
