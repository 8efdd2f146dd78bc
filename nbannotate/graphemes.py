"""Where a text may be cut without splitting a user-perceived character (a grapheme cluster).

spaCy's tokenizers cut inside some clusters: a ZWJ emoji sequence (👨‍👩‍👧 is 👨 ZWJ 👩 ZWJ 👧),
a skin-tone modifier (👍🏽), a pair of regional indicators (a flag, 🇩🇪). A span that starts or
ends there is half a character on screen, so no candidate may. The rules are those of Unicode's
extended grapheme clusters (UAX #29) that matter for text a person reads; the standard library
has no segmentation and the character properties come from ``unicodedata``.
"""

from __future__ import annotations

import unicodedata

ZWJ = "\u200d"
_EXTEND_CATEGORIES = {"Mn", "Me", "Mc"}  # combining marks, enclosing marks, spacing marks


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _is_extend(ch: str) -> bool:
    """Grapheme_Cluster_Break Extend/SpacingMark (plus ZWJ): never starts a cluster."""
    cp = ord(ch)
    return (
        ch == ZWJ
        or unicodedata.category(ch) in _EXTEND_CATEGORIES
        or 0x1F3FB <= cp <= 0x1F3FF  # emoji skin-tone modifiers
        or 0xE0020 <= cp <= 0xE007F  # tags (subdivision flags, 🏴 + tags)
        or 0xFE00 <= cp <= 0xFE0F
        or 0xE0100 <= cp <= 0xE01EF
    )  # variation selectors


def _is_pictographic(ch: str) -> bool:
    """Close to Extended_Pictographic: the emoji a ZWJ sequence joins."""
    cp = ord(ch)
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0x2300 <= cp <= 0x23FF
        or 0x2B00 <= cp <= 0x2BFF
        or cp in (0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x3030, 0x303D, 0x3297, 0x3299)
        or unicodedata.category(ch) == "So"
    )


def _hangul_joins(before: str, after: str) -> bool:
    """Conjoining jamo (L, V, T) and precomposed syllables (LV, LVT) that make one syllable."""
    b, a = ord(before), ord(after)
    lead = 0x1100 <= b <= 0x115F or 0xA960 <= b <= 0xA97C
    vowel_after = 0x1160 <= a <= 0x11A7 or 0xD7B0 <= a <= 0xD7C6
    trail_after = 0x11A8 <= a <= 0x11FF or 0xD7CB <= a <= 0xD7FB
    lead_after = 0x1100 <= a <= 0x115F or 0xA960 <= a <= 0xA97C
    syllable_after = 0xAC00 <= a <= 0xD7A3
    if lead:
        return lead_after or vowel_after or syllable_after
    vowel = 0x1160 <= b <= 0x11A7 or 0xD7B0 <= b <= 0xD7C6
    lv = 0xAC00 <= b <= 0xD7A3 and (b - 0xAC00) % 28 == 0
    if vowel or lv:
        return vowel_after or trail_after
    trail = 0x11A8 <= b <= 0x11FF or 0xD7CB <= b <= 0xD7FB
    lvt = 0xAC00 <= b <= 0xD7A3 and not lv
    return (trail or lvt) and trail_after


def inside_cluster(text: str, i: int) -> bool:
    """True when offset ``i`` (a code point offset, as spaCy's) falls inside a grapheme
    cluster of ``text``: a cut there would split one character a person sees."""
    if i <= 0 or i >= len(text):
        return False
    before, after = text[i - 1], text[i]
    if before == "\r" and after == "\n":
        return True
    if before in "\r\n" or after in "\r\n":
        return False
    if _is_extend(after):
        return True
    if before == ZWJ and _is_pictographic(after):
        # An emoji ZWJ sequence: an emoji (with its modifiers) before the ZWJ.
        j = i - 2
        while j >= 0 and _is_extend(text[j]) and text[j] != ZWJ:
            j -= 1
        return j >= 0 and _is_pictographic(text[j])
    if _is_regional_indicator(before) and _is_regional_indicator(after):
        # Flags are pairs: cut only after an even number of regional indicators.
        j = i - 1
        while j >= 0 and _is_regional_indicator(text[j]):
            j -= 1
        return (i - 1 - j) % 2 == 1
    return _hangul_joins(before, after)


def splits_cluster(text: str, start: int, end: int) -> bool:
    """True when the span [start, end) of ``text`` starts or ends inside a grapheme cluster."""
    return inside_cluster(text, start) or inside_cluster(text, end)
