"""Where stream events come from: optional donation services, each feeding a callback."""
