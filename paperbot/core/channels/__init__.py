"""Channels: their rows and topics, schedules, time zones, who may change them."""
