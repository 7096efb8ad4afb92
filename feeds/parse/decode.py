"""Decoding for the HTML parser: a page's bytes and headers -> text, and
what kind of document it is. Pure:
no network, no files, no clock. The one module that imports
charset_normalizer.
"""

from __future__ import annotations

import codecs
import re

# The HTML standard reads a meta charset within the first 1024 bytes; real
# pages put a long <head> comment or inline styles first, so look further.
_PRESCAN = 4096
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
# What browsers do with these labels (WHATWG Encoding): "latin-1" and
# "ascii" pages are windows-1252.
_LABEL_CODECS = {"iso8859-1": "cp1252", "ascii": "cp1252"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: How much of a body `cyrillic_codec` reads.
_CYRILLIC_SAMPLE = 256 * 1024
# Ё and ё: 0xA8/0xB8 in windows-1251, 0xB3/0xA3 in KOI8-R.
_YO = frozenset({0xA8, 0xB8, 0xA3, 0xB3})
#: Russian letters and how many of ten thousand letters of running text
#: each one is.
_RUSSIAN_LETTERS = (
    "о1097 е845 а801 и735 н670 т626 с547 р473 в454 л440 к349 м321 д298 п281 у262 я201 "
    "ы190 ь174 г170 з165 б159 ч144 й121 х97 ж94 ш73 ю64 ц48 щ36 э32 ф26 ъ4 ё4"
)
_RUSSIAN_FREQUENCY = {entry[0]: int(entry[1:]) for entry in _RUSSIAN_LETTERS.split()}
# Markup hides the language from the detector: it sees the text alone.
# An element or tag left open runs to the end: each opening that nothing
# closed used to be searched to the end again (quadratic: 400 KB of
# "<script " took 65 s in one call, holding the GIL).
_MARKUP = re.compile(
    rb"<script\b.*?(?:</script>|\Z)|<style\b.*?(?:</style>|\Z)|<[^>]*+(?:>|\Z)", re.I | re.S
)


# Each comment ends at its first "-->", and nothing is given back: with a
# lazy ".*?" a comment could run on over the next ones, so n empty comments
# before the root could be grouped in 2^n ways (26 took 20 s, 40 for ever).
_PROLOGUE = r"^\ufeff?\s*+(?:<\?[^>]*+>\s*+|<!--(?:(?!-->).)*+-->\s*+)*+"
#: An RSS 0.91 document's DOCTYPE (Netscape's), before its root.
_DOCTYPE = r"(?:<!DOCTYPE\s++(?:rss|feed)\b[^>]*+>\s*+)?"
_FEED_ROOT = re.compile(_PROLOGUE + _DOCTYPE + r"<(?:rss|feed|rdf:RDF)\b", re.S)
_HTML_ROOT = re.compile(_PROLOGUE + r"<(?:!doctype\s+html|html)\b", re.S | re.I)


def document_kind(text: str) -> str:
    """What a body's first 4 KB of text say it is: "feed" (RSS or Atom),
    "json feed", "html" (it starts as an HTML document does), or ""
    (none of them)."""
    head = text[:_PRESCAN]
    if _FEED_ROOT.match(head):
        return "feed"
    if head.lstrip("\ufeff \t\r\n")[:1] == "{" and "jsonfeed.org/version" in head:
        return "json feed"
    if _HTML_ROOT.match(head):
        return "html"
    return ""


def decode_page(body: bytes, headers: dict[str, str]) -> str:
    """The page as text.

    A byte-order mark first, and valid UTF-8 with non-ASCII bytes second:
    neither happens by chance, and both outrank a stale declaration (a site
    moved to UTF-8 whose server still says windows-1251). Then the charset
    of the Content-Type header, of a <meta> in the first 4 KB, a guess
    (Russian in windows-1251 or KOI8-R, then charset_normalizer), and last
    UTF-8 with U+FFFD for what does not fit.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace")
    if not body.isascii():
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            pass
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    header = _HEADER_CHARSET.search(content_type)
    meta = _META_CHARSET.search(body[:_PRESCAN])
    declared = [
        _codec(header.group(1) if header else ""),
        _codec(meta.group(1).decode("ascii", "replace") if meta else "", in_page=True),
    ]
    for label_codec in declared:
        text = strict_enough(body, label_codec) if label_codec else None
        if text is not None:
            return text
    if body.isascii():
        return body.decode("ascii")
    sample = _MARKUP.sub(b" ", body)
    cyrillic = cyrillic_codec(sample)
    if cyrillic:
        return body.decode(cyrillic, errors="replace")
    import charset_normalizer  # 12 ms to import: only for the rare body no label names

    best = charset_normalizer.from_bytes(sample if sample.strip() else body).best()
    if best is not None:
        return body.decode(best.encoding, errors="replace")
    return body.decode("utf-8", errors="replace")


def cyrillic_codec(text: bytes) -> str | None:
    """windows-1251 or KOI8-R for Russian text, else None.

    A statistical detector guesses wrong on a short page (a KOI8-R headline
    comes out as Shift-JIS), so Russian is recognised by its shape first:
    both encodings keep the letters in 0xC0-0xFF, and a Cyrillic word is a
    run of such bytes (a French "été" is not). Which of the two it is, the
    letter frequencies tell: read in the wrong one, "о", "е", "а" turn into
    rare letters, whatever the case (an all-capitals headline too).
    """
    # Its first bytes tell as well as all of them: every byte's position
    # in a list cost 500 MB and 3 s for a body of 10 MB.
    text = text[:_CYRILLIC_SAMPLE]
    high = [i for i, byte in enumerate(text) if byte >= 0x80]
    if len(high) < 4:
        return None
    letters = [i for i in high if text[i] >= 0xC0 or text[i] in _YO]
    if len(letters) < 0.9 * len(high):
        return None
    in_runs = sum(
        1
        for i in letters
        if (i > 0 and text[i - 1] >= 0xC0) or (i + 1 < len(text) and text[i + 1] >= 0xC0)
    )
    if in_runs < 0.6 * len(letters) or _latin_words_with_accents(text):
        return None
    word_bytes = bytes(text[i] for i in letters)

    def score(codec: str) -> int:
        decoded = word_bytes.decode(codec, errors="replace").lower()
        return sum(_RUSSIAN_FREQUENCY.get(letter, 0) for letter in decoded)

    return max(("cp1251", "koi8-r"), key=score)


#: A word: a run of ASCII letters and bytes from 0xC0 on.
_WORD = re.compile(rb"[A-Za-z\xc0-\xff]+")


def _latin_words_with_accents(text: bytes) -> bool:
    """Whether a third or more of the words with letters from 0xC0 on also
    have ASCII letters: accented letters inside Latin words ("Ações",
    "decisão" in windows-1252), where a Russian word in windows-1251 or
    KOI8-R is all Cyrillic. Headlines of "-ção" and "-ções" put enough
    accented letters side by side to pass for Cyrillic runs."""
    accented = mixed = 0
    for word in _WORD.findall(text):
        if max(word) >= 0xC0:
            accented += 1
            mixed += min(word) < 0x80
    return mixed * 3 >= accented > 0


def text_codec(label: str) -> str | None:
    """Python's name for the charset `label` names, or None: an unknown
    label, or a codec that reads no charset. Python's codecs include
    rot13, base64, zlib and hex (not text encodings: decoding bytes with
    them raises LookupError), and some that are but name no charset
    (NOT_CHARSETS); a label with a NUL in it raises ValueError. A server
    naming one failed its source as a bug in feeds."""
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in NOT_CHARSETS:
        return None
    return info.name


#: Text codecs Python has that no server means by a charset: escapes and
#: host-name encodings (their errors are a bare UnicodeError), and
#: "undefined", which fails on any bytes.
NOT_CHARSETS = frozenset({"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"})


def _codec(label: str, *, in_page: bool = False) -> str | None:
    """Python's codec for a charset label, the way browsers read the label."""
    for candidate in (label, label.lower().removeprefix("x-")):  # x-cp1251
        name = text_codec(candidate)
        if name is None:
            continue
        # A page's own text cannot declare UTF-16: it was read as ASCII.
        if in_page and name.startswith("utf-16"):
            return "utf-8"
        return _LABEL_CODECS.get(name, name)
    return None


def strict_enough(body: bytes, codec: str) -> str | None:
    """The body in a declared charset, unless that is plainly wrong (a
    "UTF-8" page in windows-1251): a stray bad byte in a thousand is kept
    as U+FFFD, as a browser would (windows-1251's 0x98, which Python's
    codec leaves unmapped, too)."""
    try:
        return body.decode(codec)
    except UnicodeDecodeError:
        text = body.decode(codec, errors="replace")
    return text if text.count("\ufffd") <= max(1, len(text) // 1000) else None
