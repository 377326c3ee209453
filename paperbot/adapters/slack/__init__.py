"""Slack adapter: bolt app, Block Kit rendering and the ChatPlatform port (imports nothing)."""
