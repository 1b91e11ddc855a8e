"""Telegram's HTML parse mode, as strict as the real Bot API.

Used by the stand-in Bot API server and by the renderer tests: a reply that passes here
is one Telegram would accept. Rules from https://core.telegram.org/bots/api#html-style:
only the listed tags, every `<`, `>` and `&` outside a tag or entity must be escaped,
only &lt; &gt; &amp; &quot; and numeric entities are known, tags must nest.
"""

from __future__ import annotations

import re

ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "code",
    "pre",
    "a",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class EntityParseError(ValueError):
    """The text Telegram would reject with "Bad Request: can't parse entities"."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> str:
    """Return the plain text Telegram would show, or raise EntityParseError."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            end = text.find(">", i)
            if end < 0:
                raise EntityParseError(f"can't parse entities: unclosed tag at offset {i}")
            body = text[i + 1 : end].strip()
            if body.startswith("/"):
                name = body[1:].strip().lower()
                if not stack or stack[-1] != name:
                    raise EntityParseError(f'can\'t parse entities: unmatched end tag "{name}" at offset {i}')
                stack.pop()
            else:
                name = body.split()[0].lower() if body else ""
                if name not in ALLOWED_TAGS:
                    raise EntityParseError(f'can\'t parse entities: unsupported start tag "{name}" at offset {i}')
                if name == "a" and "href=" not in body:
                    raise EntityParseError("can't parse entities: <a> needs href")
                stack.append(name)
            i = end + 1
        elif ch == "&":
            m = _ENTITY.match(text, i)
            if not m:
                raise EntityParseError(f"can't parse entities: can't find end of the entity at offset {i}")
            name = m.group(1)
            if name in _NAMED:
                out.append(_NAMED[name])
            else:
                code = int(name[2:], 16) if name.startswith("#x") else int(name[1:])
                out.append(chr(code))
            i = m.end()
        elif ch == ">":
            raise EntityParseError(f'can\'t parse entities: unexpected ">" at offset {i}')
        else:
            out.append(ch)
            i += 1
    if stack:
        raise EntityParseError(f"can't parse entities: can't find end tag corresponding to start tag \"{stack[-1]}\"")
    return "".join(out)
