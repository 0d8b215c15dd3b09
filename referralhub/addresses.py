"""Email addresses as people are told apart by them: the key that joins, and the look-alike checks.

- **The key** of an address is the address case-folded with surrounding spaces removed. Promoters
  whose keys are equal are one person; the key is computed here, in Python, and stored
  (`Promoter.person_key`), so SQLite and PostgreSQL join exactly the same addresses.
- **A look-alike** is never joined, only flagged: an address that mixes scripts in its local part
  or in one label of its domain (a Cyrillic "a" in "grace"), or whose skeleton equals another
  person's. The skeleton follows Unicode's TR39 idea with Unicode's own confusables list (through
  confusable-homoglyphs): compatibility forms and accents dropped, then every character listed
  with exactly one look-alike replaced by it ("0" by "O", a Cyrillic "a" by the Latin one), then
  case-folded.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from confusable_homoglyphs.categories import unique_aliases
from confusable_homoglyphs.confusables import confusables_data

# Scripts every script uses: digits, punctuation, combining marks.
_SHARED_SCRIPTS = frozenset({"COMMON", "INHERITED"})
# The data wraps right-to-left characters in left-to-right marks, for display.
_DIRECTION_MARKS = str.maketrans("", "", "\u200e\u200f")


def address_key(email: str) -> str:
    """The key that joins promoters into people: "" for no address."""
    return email.strip().casefold()


def skeleton(key: str) -> str:
    """What an address looks like: two addresses people cannot tell apart share it."""
    decomposed = unicodedata.normalize("NFKD", key)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFKD", "".join(map(_prototype, plain))).casefold()


def mixes_scripts(key: str) -> bool:
    """Whether the local part, or one label of the domain, has letters of two scripts."""
    local, _, domain = key.rpartition("@") if "@" in key else (key, "", "")
    return any(
        len(unique_aliases(part) - _SHARED_SCRIPTS) > 1 for part in [local, *domain.split(".")]
    )


@cache
def _prototype(char: str) -> str:
    """The character `char` is confused with, when Unicode's list gives it one look-alike; of two
    characters that only look like each other, both become the smaller."""
    alikes = confusables_data.get(char, ())
    if len(alikes) != 1:
        return char
    alike = alikes[0]["c"].translate(_DIRECTION_MARKS)
    if len(confusables_data.get(alike, ())) == 1:
        return min(char, alike)
    return alike
