"""Stream events: typed events, their sources, the bus, YAML rules and actions."""
