"""The application service: Paperbot, the one door into the core, and the value types its
callers pass in and get back. Outer layers import from here, not from the modules below."""

from paperbot.core.delivery import DeliveryOutcome, DeliveryReport
from paperbot.core.papers.sources.files import FileFormatError
from paperbot.core.service.app import Paperbot
from paperbot.core.service.values import (
    ChannelInfo,
    ChannelOptions,
    DigestPreview,
    IndexBuilt,
    PaperFile,
    SamplesRemoved,
)

__all__ = [
    "ChannelInfo",
    "ChannelOptions",
    "DeliveryOutcome",
    "DeliveryReport",
    "DigestPreview",
    "FileFormatError",
    "IndexBuilt",
    "PaperFile",
    "Paperbot",
    "SamplesRemoved",
]
