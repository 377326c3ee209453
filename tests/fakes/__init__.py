"""Loopback fakes of the outside services paperbot talks to (sources, chat platforms)."""
