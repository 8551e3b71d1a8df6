"""The bot↔overlay link: a versioned WebSocket protocol (see overlay/PROTOCOL.md)."""
