"""The command grammar: `/papers ...` text -> a typed Command (or a friendly ParseError)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Literal

from paperbot.core.channels import zones
from paperbot.core.channels.when import parse_days as parse_days  # for the CLI's --days
from paperbot.core.channels.when import parse_schedule, parse_time, parse_zone, weekday_of
from paperbot.core.channels.zones import find_zone
from paperbot.core.channels.zones import zone_names as zone_names  # for the adapters' autocomplete
from paperbot.core.errors import ParseError
from paperbot.core.limits import (
    DIGEST_SIZE,
    MAX_PAPER_REF_CHARS,
    MAX_QUERY_CHARS,
    MAX_TOPIC_CHARS,
    SEARCH_PAGE,
)
from paperbot.core.printable import printable


@dataclass(frozen=True)
class Caller:
    """Who sent a command, and what the adapter knows about them and the place they are in."""

    platform: str
    workspace: str
    channel: str
    user: str
    # Platform-level admin/owner (Slack workspace admin, Discord administrator).
    is_admin: bool = False
    # May manage this channel (Discord Manage Channels; Slack allow-list); None = unknown.
    can_manage_channel: bool | None = None
    is_dm: bool = False
    # The bot's own ability to post here; None = unknown / not checked.
    bot_can_post: bool | None = None
    # What the bot lacks to post here (e.g. "Embed Links"), shown when subscribing.
    bot_missing: str | None = None
    # The platform's own words, from its adapter: what lets the bot post here (Slack:
    # "invite @paperbot first"), and who may change a channel's digest; None: plain words.
    fix_posting: str | None = None
    managers: str | None = None
    # The channel's display name ("#lab"), for replies that name it; None: "this channel".
    channel_name: str | None = None


@dataclass(frozen=True)
class Search:
    query: str
    page: int = 1


@dataclass(frozen=True)
class MoreLikeThis:
    paper: str


@dataclass(frozen=True)
class Trending:
    pass


@dataclass(frozen=True)
class Subscribe:
    topic: str


@dataclass(frozen=True)
class Unsubscribe:
    topic: str  # "all" removes every topic


@dataclass(frozen=True)
class ListSettings:
    pass


@dataclass(frozen=True)
class Schedule:
    at: time | None = None  # None: the channel keeps its time (as with zone and days)
    zone: str | None = None
    days: str | None = None  # "daily" | "weekdays" | "mon,wed,fri"


@dataclass(frozen=True)
class Size:
    n: int


@dataclass(frozen=True)
class DigestNow:
    pass


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class Help:
    topic: str | None = None


@dataclass(frozen=True)
class Vote:
    """A like / dislike press on one paper (a button or select, never typed)."""

    paper: str  # the paper's key, as PaperCard.key
    value: Literal["like", "dislike"]


@dataclass(frozen=True)
class Discuss:
    """ "Discuss" on one paper (a button or select, never typed)."""

    paper: str


@dataclass(frozen=True)
class Taste:
    """What the channel's feedback taught paperbot; reset forgets it (permission-checked)."""

    reset: bool = False


@dataclass(frozen=True)
class Roundup:
    """The week's roundup: post it now, schedule it weekly, or stop it (permission-checked)."""

    action: Literal["now", "weekly", "off"] = "now"
    weekday: int | None = None  # 0 = Monday
    at: time | None = None
    zone: str | None = None  # None: the channel's zone


Command = (
    Search
    | MoreLikeThis
    | Trending
    | Subscribe
    | Unsubscribe
    | ListSettings
    | Schedule
    | Size
    | DigestNow
    | Pause
    | Resume
    | Help
    | Vote
    | Discuss
    | Taste
    | Roundup
)
# Commands that may change a channel, and so need permission and a real channel (not a DM);
# changes_channel() says which values of Taste do (its reset).
CHANNEL_CHANGES = (Subscribe, Unsubscribe, Schedule, Size, DigestNow, Pause, Resume, Taste, Roundup)


def changes_channel(command: object) -> bool:
    """Whether this command needs permission to change the channel (`taste` alone does not)."""
    if isinstance(command, Taste):
        return command.reset
    return isinstance(command, CHANNEL_CHANGES)


USAGE: dict[str, str] = {
    "search": '/papers search <query> [page:N]: find papers ("phrases", -exclude, author:, cat:,'
    " since:7d)",
    "more-like-this": "/papers more-like-this <arXiv id>: papers similar to one paper",
    "trending": "/papers trending: what is trending now",
    "subscribe": "/papers subscribe <topic>: add a topic to this channel's digest",
    "unsubscribe": "/papers unsubscribe <topic|all>: remove a topic",
    "list": "/papers list: this channel's topics, schedule and next digest",
    "schedule": "/papers schedule [HH:MM] [IANA zone] [daily|weekdays|weekly|mon,wed,...]: when the"
    " digest is posted",
    "size": f"/papers size <{DIGEST_SIZE}>: papers per digest",
    "digest": "/papers digest: post this channel's next digest now",
    "pause": "/papers pause: stop the daily digest",
    "resume": "/papers resume: start it again",
    "taste": "/papers taste [reset]: what this channel's 👍/👎 taught paperbot (reset forgets it)",
    "roundup": "/papers roundup [weekly <day> <HH:MM> [zone] | off]: the week's most liked and"
    " discussed papers, now or every week",
    "help": "/papers help [command]: this help",
}
ALIASES = {
    "find": "search",
    "s": "search",
    "similar": "more-like-this",
    "mlt": "more-like-this",
    "more": "more-like-this",
    "top": "trending",
    "sub": "subscribe",
    "follow": "subscribe",
    "unsub": "unsubscribe",
    "unfollow": "unsubscribe",
    "ls": "list",
    "settings": "list",
    "status": "list",
    "now": "digest",
    "stop": "pause",
    "start": "resume",
    "?": "help",
    "week": "roundup",
}


def clean_text(text: str) -> str:
    """Printable text on one line, whitespace collapsed (chat clients send all sorts)."""
    return " ".join(printable(text).split())


def parse(text: str) -> Command:
    """Parse what follows `/papers` (a leading "/papers" or "papers" is tolerated)."""
    words = clean_text(text).split(" ", 1)
    if words and words[0].lower() in ("/papers", "papers"):
        words = clean_text(words[1] if len(words) > 1 else "").split(" ", 1)
    name = words[0].lower() if words and words[0] else "help"
    rest = words[1].strip() if len(words) > 1 else ""
    name = ALIASES.get(name, name)
    if name not in USAGE:
        shown = name if len(name) <= 30 else name[:30] + "…"
        raise ParseError(f"Unknown command `{shown}`. Try `/papers help`.")
    return build(name, rest)


def build(name: str, rest: str) -> Command:
    """Build a Command from a subcommand name and its argument text (Discord passes these)."""
    rest = clean_text(rest)
    if name == "search":
        query, page = _split_page(rest)
        return Search(query=check_query(query), page=page)
    if name == "more-like-this":
        if not rest:
            raise ParseError("Which paper? Usage: " + USAGE[name])
        return MoreLikeThis(paper=rest.split(" ")[0][:MAX_PAPER_REF_CHARS])
    if name == "subscribe":
        return Subscribe(topic=check_topic(rest))
    if name == "unsubscribe":
        if not rest:
            raise ParseError("Which topic? Usage: " + USAGE[name])
        return Unsubscribe(topic=rest[:MAX_TOPIC_CHARS])
    if name == "schedule":
        return _schedule(rest)
    if name == "size":
        return Size(n=_size(rest))
    if name == "taste":
        return _taste(rest)
    if name == "roundup":
        return _roundup(rest)
    if name == "help":
        return Help(topic=ALIASES.get(rest.lower(), rest.lower()) or None)
    simple: dict[str, Command] = {
        "trending": Trending(),
        "list": ListSettings(),
        "digest": DigestNow(),
        "pause": Pause(),
        "resume": Resume(),
    }
    return simple[name]


def check_query(query: str) -> str:
    if not query:
        raise ParseError("What should I search for? Usage: " + USAGE["search"])
    if len(query) > MAX_QUERY_CHARS:
        raise ParseError(
            f"That query is {len(query)} characters long; please keep it under {MAX_QUERY_CHARS}."
        )
    return query


# A whole topic in quotes of this many words or more is a description, not an exact phrase:
# `/papers subscribe "robots that learn by watching videos"` matches by meaning, as it does
# unquoted (as a phrase, those words in that order, it would match nothing).
DESCRIPTION_WORDS = 4


def check_topic(topic: str) -> str:
    topic = unquoted_description(clean_text(topic))
    if not topic:
        raise ParseError("Which topic? Usage: " + USAGE["subscribe"])
    if len(topic) > MAX_TOPIC_CHARS:
        raise ParseError(
            f"Topics are at most {MAX_TOPIC_CHARS} characters; that one has {len(topic)}."
        )
    return topic


def unquoted_description(topic: str) -> str:
    """The topic without the quotes around it when it is a description (see above)."""
    inner = topic[1:-1].strip()
    quoted = len(topic) > 1 and topic[0] in '"“' and topic[-1] in '"”'
    if quoted and not any(q in inner for q in '"“”') and len(inner.split()) >= DESCRIPTION_WORDS:
        return inner
    return topic


def _split_page(rest: str) -> tuple[str, int]:
    """`diffusion page:2` or `page:2 diffusion` -> ("diffusion", 2). Only `page:N` outside
    quotes is a page: in `gpt 4` the 4 is part of the query. The query comes back without
    it, so the next page's hint does not carry the old page along."""
    words: list[str] = []
    page, quotes = 1, 0
    for part in rest.split(" "):
        num = part.lower().removeprefix("page:")
        is_page = part.lower().startswith("page:") and num.isdecimal() and int(num) in SEARCH_PAGE
        if is_page and quotes % 2 == 0:
            page = int(num)
            continue
        quotes += part.count('"')
        words.append(part)
    query = " ".join(words).strip()
    return (query, page) if query else (rest, 1)


def _schedule(rest: str) -> Schedule:
    if not rest:
        raise ParseError("When? Usage: " + USAGE["schedule"])
    at, zone, days = parse_schedule(rest)
    return Schedule(at=at, zone=zone, days=days)


def _size(rest: str) -> int:
    if not rest.isdecimal() or int(rest) not in DIGEST_SIZE:
        low, high = DIGEST_SIZE.low, DIGEST_SIZE.high
        raise ParseError(f"Digest size is a number from {low} to {high}, e.g. `/papers size 5`.")
    return int(rest)


def _taste(rest: str) -> Taste:
    """`reset`, `reset:true` (Discord's option as text) or nothing."""
    word = rest.lower().replace(" ", "").replace("=", ":")
    if word in ("", "reset:false", "reset:no"):
        return Taste()
    if word in ("reset", "reset:true", "reset:yes", "forget", "clear"):
        return Taste(reset=True)
    raise ParseError("Usage: " + USAGE["taste"])


def _roundup(rest: str) -> Roundup:
    """Nothing or `now`; `off`; `[weekly] <day> <HH:MM> [zone]` in any order."""
    parts = [p for p in rest.split(" ") if p]
    if not parts or parts == ["now"]:
        return Roundup()
    if parts[0].lower() in ("off", "stop", "none"):
        if len(parts) > 1:
            raise ParseError("Usage: " + USAGE["roundup"])
        return Roundup(action="off")
    if parts[0].lower() == "weekly":
        parts = parts[1:]
    weekday: int | None = None
    at: time | None = None
    zone: str | None = None
    for part in parts:
        day = weekday_of(part)
        if day is not None and weekday is None:
            weekday = day
        elif at is None and part[:1].isdigit():
            at = parse_time(part)
        elif zone is None and (found := find_zone(part)) is not None:
            zone = found
        elif zone is None and ("/" in part or zones.OFFSET.match(part)):
            zone = parse_zone(part)  # raises, saying what is wrong with the zone
        else:
            raise ParseError(
                f"`{part[:20]}` is not a weekday, a time or a time zone. Usage: " + USAGE["roundup"]
            )
    if weekday is None or at is None:
        raise ParseError(
            "Which day and time? e.g. `/papers roundup weekly fri 16:00 Europe/Paris`."
        )
    return Roundup(action="weekly", weekday=weekday, at=at, zone=zone)


def help_text(topic: str | None = None) -> str:
    if topic and topic in USAGE:
        return USAGE[topic]
    return "paperbot commands:\n" + "\n".join(f"• {line}" for line in USAGE.values())
