"""Wikipedia `pages-articles` XML (already decompressed stream) → plain-text article paragraphs.

Streams with `iterparse` and clears each page after use, so memory stays flat however large the
dump. Keeps main-namespace (ns 0) articles; redirects, disambiguation pages and other namespaces are
reported as skips. Wikitext is cleaned with mwparserfromhell: templates (infoboxes too), tables,
<ref>s and other tags' markup, comments, headings, file/image/category links are removed, the rest
is plain text.

Example:
    >>> wikitext_to_paragraphs("'''Bank''' is a [[river]] side.{{cite web|x=1}}<ref>r</ref>\\n\\n==H==\\nMore text here.")
    ['Bank is a river side.', 'More text here.']
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import BinaryIO, Iterator

import mwparserfromhell
from mwparserfromhell.nodes import Comment, Heading, Tag, Template, Wikilink

from pipelines.sources import Item, RawDocument, RawPage, Skipped

_DROPPED_TAGS = {
    "ref",
    "table",
    "gallery",
    "math",
    "timeline",
    "imagemap",
    "score",
    "syntaxhighlight",
    "source",
    "references",
    "noinclude",
    "includeonly",
    "chem",
    "hiero",
    "graph",
}
_DROPPED_LINK_PREFIXES = ("file:", "image:", "category:", "media:")
_DISAMBIGUATION = re.compile(
    r"\{\{\s*(disambig\w*|dab|hndis|geodis|set index article)\s*[|}]", re.I
)
_MIN_PARAGRAPH_WORDS = 3
_COMMENTS_AND_REFS = re.compile(
    r"<!--.*?(?:-->|$)|<ref(?:\s[^>]*)?/>|<ref(?:\s[^>]*)?>.*?</ref\s*>", re.S | re.I
)
# Section headings are whole lines: dropped before parsing, where no unclosed tag can hide them.
_HEADINGS = re.compile(r"^=+[^\n]*=+[ \t]*$", re.M)
# Table edges: MediaWiki reads `{|` and `|}` only at a line start (after optional indentation).
_TABLE_EDGE = re.compile(r"^[ \t:]*(\{\||\|\})", re.M)
# Safety net for markup mwparserfromhell leaves as text when it gives up on a malformed construct.
_LEFTOVER_REF = re.compile(r"<ref[^>/]*/>|<ref[^>]*>.*?</ref>", re.S | re.I)
_LEFTOVER_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}")
_LEFTOVER_MARKUP = re.compile(r"\{\{|\}\}|\[\[|\]\]|<ref|\{\||\bthumb\||\d+px\||Category:")


_XML_ERROR_NO_ELEMENTS = 3  # expat: "no element found" — the input ended inside the document


def _tag(element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _is_dropped(node) -> bool:
    if isinstance(node, (Template, Comment, Heading)):
        return True
    if isinstance(node, Tag):
        return str(node.tag).strip().lower() in _DROPPED_TAGS
    if isinstance(node, Wikilink):
        title = str(node.title).strip().lower().lstrip(":")
        return (
            title.startswith(_DROPPED_LINK_PREFIXES)
            or re.match(r"^[a-z\-]{2,12}:", title) is not None
        )
    return False


def without_tables(wikitext: str) -> str:
    """The wikitext with its tables (`{|` … `|}`, nested ones within) cut out; an unclosed table
    is left for the parser. Tables are ≈ 5% of an article's wikitext but ≈ 40% of its parse time,
    and the cleaning drops them anyway.

    >>> without_tables("Before.\\n{|\\n| a {{x}}\\n{|\\n|b\\n|}\\n|}\\nAfter.")
    'Before.\\n\\nAfter.'
    """
    kept, start, depth, table_start = [], 0, 0, 0
    for edge in _TABLE_EDGE.finditer(wikitext):
        if edge.group(1) == "{|":
            table_start = edge.start() if depth == 0 else table_start
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                kept.append(wikitext[start:table_start])
                start = edge.end()
    kept.append(wikitext[start:])
    return "".join(kept)


def wikitext_to_paragraphs(wikitext: str) -> list[str]:
    """Plain-text paragraphs of one article's wikitext (markup, templates, tables, refs removed).

    Comments, <ref>s (which never nest), heading lines and tables are cut out before parsing:
    they are ≈ 30% of an article's wikitext, parsing them was a third of the cleaning time, and
    malformed markup earlier in a page could make the parser take the rest of it as one node, so
    that headings and citation text leaked into the paragraphs."""
    code = mwparserfromhell.parse(
        without_tables(_HEADINGS.sub("", _COMMENTS_AND_REFS.sub("", wikitext)))
    )
    # Top-level removal by list filtering is linear; strip_code then drops nested templates, refs
    # and comments itself (searching and removing nested nodes one by one is quadratic: 8x slower).
    code.nodes = [node for node in code.nodes if not _is_dropped(node)]
    text = _LEFTOVER_REF.sub("", code.strip_code(normalize=True, collapse=True))
    while True:
        text, found = _LEFTOVER_TEMPLATE.subn("", text)
        if not found:
            break
    paragraphs = []
    for line in text.split("\n"):
        line = re.sub(r"\s+", " ", line).strip(" *#:;")
        if len(line.split()) >= _MIN_PARAGRAPH_WORDS and not _LEFTOVER_MARKUP.search(line):
            paragraphs.append(line)
    return paragraphs


def _page_fields(page) -> tuple[str, str, bool, str]:
    title = page.findtext("{*}title") or ""
    namespace = page.findtext("{*}ns") or "0"
    is_redirect = page.find("{*}redirect") is not None
    text = page.findtext("{*}revision/{*}text") or ""
    return title, namespace, is_redirect, text


def _article(path: str, page) -> Item:
    """A main-namespace article as a RawPage (cleaned later, when its text is needed); other pages
    as skips."""
    title, namespace, is_redirect, text = _page_fields(page)
    where = f"{title!r}"
    if namespace != "0":
        return Skipped("wiki_not_main_namespace", path, where)
    if is_redirect or text.lstrip().lower().startswith("#redirect"):
        return Skipped("wiki_redirect", path, where)
    if title.endswith("(disambiguation)") or _DISAMBIGUATION.search(text):
        return Skipped("wiki_disambiguation", path, where)
    return RawPage(path, title, text)


def page_document(page: RawPage) -> RawDocument | Skipped:
    """The article's cleaned paragraphs, keyed by its wikitext (so that the key is known before
    cleaning)."""
    try:
        paragraphs = wikitext_to_paragraphs(page.wikitext)
    except Exception as error:  # a parser bug on one page must not stop the dump
        return Skipped("wiki_unparsable_page", page.path, f"{page.title!r}: {error!r}")
    if not paragraphs:
        return Skipped("wiki_no_text", page.path, repr(page.title))
    return RawDocument(page.source, paragraphs, content_key=page.key)


def read(path: str, stream: BinaryIO, max_line_chars: int) -> Iterator[Item]:
    del max_line_chars  # XML pages are bounded by the parser, not by lines
    pages = 0
    try:
        events = ET.iterparse(stream, events=("start", "end"))
        _, root = next(events)
        for event, element in events:
            if event == "end" and _tag(element) == "page":
                pages += 1
                yield _article(path, element)
                root.clear()  # drop finished pages: memory stays flat
    except StopIteration:  # no XML at all
        yield Skipped("empty_file", path, "no <page> elements")
    except ET.ParseError as error:
        # The document ended before its root closed: a truncated file (a cut .bz2 decompresses to a
        # prefix of the XML); any other parse error is malformed XML.
        if error.code != _XML_ERROR_NO_ELEMENTS:
            yield Skipped("malformed_xml", path, f"after {pages} pages: {error}")
        elif error.position == (1, 0):
            yield Skipped("empty_file", path, "no XML")
        else:
            yield Skipped("truncated_file", path, f"after {pages} pages: {error}")
    except (EOFError, OSError, ValueError) as error:  # corrupt compressed input
        yield Skipped("corrupt_file", path, f"after {pages} pages: {error!r}")
    else:
        if pages == 0:
            yield Skipped("empty_file", path, "no <page> elements")
