"""Digests: a channel's papers at one instant (candidates, shares, why lines)."""
