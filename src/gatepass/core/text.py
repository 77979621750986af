"""Caller-supplied text at the two places it can hurt: in storage and echoed back.

- Storage: PostgreSQL refuses NUL in text, and no backend can encode a lone UTF-16 surrogate
  as UTF-8. `storable` says whether a value can be stored or looked up at all; the storage
  refuses the others (one column type, `adapters/sql/types.py`), and a login whose identifier is
  not storable is an unknown principal, since nothing can be named by it.
- Records of what a caller tried (the audit log's actor, throttling keys) must never fail on
  content: `recordable` replaces what cannot be stored with U+FFFD.
- Echoes: an error message quoting a value the caller sent shows at most `ECHO_LIMIT`
  characters of it (`clip`), so a 5,000-character input does not come back in full. Where a
  whole message is shown whose parts may come from anywhere (a page), `clip_words` cuts each
  word longer than any name and the whole to `MESSAGE_LIMIT`.
"""

from __future__ import annotations

import re

ECHO_LIMIT = 64
# A page cuts only words longer than any name gatepass accepts, so that a value already cut
# where its message was made (64 characters, an ellipsis, quotes) is shown whole.
WORD_LIMIT = 128
MESSAGE_LIMIT = 1000
REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def encodable(text: str) -> bool:
    """False when `text` holds a lone surrogate (paired ones are decoded into one character
    by every parser), which no UTF-8 encoder accepts."""
    return text.isascii() or _SURROGATE.search(text) is None


def storable(text: str) -> bool:
    """False when `text` holds NUL or a lone surrogate: no backend can hold it."""
    if text.isascii():  # str.isascii is O(1): the usual case skips the regex
        return "\x00" not in text
    return _UNSTORABLE.search(text) is None


def recordable(text: str) -> str:
    """`text` with every character that cannot be stored replaced by U+FFFD."""
    if text.isascii() and "\x00" not in text:  # the usual case, without the regex
        return text
    return _UNSTORABLE.sub(REPLACEMENT, text)


def clip(value: object, limit: int = ECHO_LIMIT) -> str:
    """A value as an error message echoes it: at most `limit` characters, then an ellipsis."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def clip_words(message: object) -> str:
    """A whole message as a page shows it: every word longer than `WORD_LIMIT` clipped, the
    message at most `MESSAGE_LIMIT` characters."""
    words = (clip(word, WORD_LIMIT) for word in str(message).split(" "))
    return clip(" ".join(words), MESSAGE_LIMIT)
