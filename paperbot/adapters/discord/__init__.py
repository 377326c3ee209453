"""Discord adapter: app commands, embeds and REST delivery (import its modules directly)."""
