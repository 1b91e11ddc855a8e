"""Two renderers over one Answer: Telegram HTML and plain text.

Telegram rejects a whole message when one `<` or `&` is not escaped, and refuses
messages over 4096 characters (counted in UTF-16 code units after entity parsing).
Every string is escaped here and nowhere else, and long replies are split at line
boundaries, so no front end has to think about either.
"""

from __future__ import annotations

from html import escape

from bot.core.answers import Answer, Line, Span

TELEGRAM_LIMIT = 4096
_TAGS = {"b": ("<b>", "</b>"), "i": ("<i>", "</i>")}


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: characters outside the BMP count twice."""
    return len(text.encode("utf-16-le")) // 2


def to_plain(answer: Answer) -> str:
    out = [answer.title] if answer.title else []  # the bold title needs no blank line on a phone
    out += ["".join(s.text for s in line) for line in answer.lines]
    if answer.footer:
        out += ["", answer.footer]
    return "\n".join(out).strip("\n")


def _span_html(span: Span) -> str:
    text = escape(span.text, quote=False)
    if span.style in _TAGS:
        open_tag, close_tag = _TAGS[span.style]
        return f"{open_tag}{text}{close_tag}"
    return text


def line_html(line: Line) -> str:
    return "".join(_span_html(s) for s in line)


def to_html(answer: Answer, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """The answer as one or more Telegram HTML messages, each within ``limit``."""
    lines = [f"<b>{escape(answer.title, quote=False)}</b>"] if answer.title else []
    lines += [line_html(line) for line in answer.lines]
    if answer.footer:
        lines += ["", f"<i>{escape(answer.footer, quote=False)}</i>"]
    return split_lines(lines, limit)


def split_lines(lines: list[str], limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Pack rendered lines into messages under ``limit``, breaking at blank lines first.

    The raw HTML length is an upper bound of the parsed length, so a message under the
    limit here is under it for Telegram too. A single line longer than the limit (only
    possible with pathological content) is cut at spaces into plain pieces.
    """
    messages: list[str] = []
    current: list[str] = []

    def size(chunk: list[str]) -> int:
        return utf16_len("\n".join(chunk))

    for line in lines:
        for piece in _cut(line, limit):
            if current and size([*current, piece]) > limit:
                # Prefer to break at the last blank line of the current message.
                cut = max((i for i, ln in enumerate(current) if ln == "" and i > 0), default=None)
                if cut is not None and size([*current[cut + 1 :], piece]) <= limit:
                    messages.append("\n".join(current[:cut]).strip("\n"))
                    current = current[cut + 1 :]
                else:
                    messages.append("\n".join(current).strip("\n"))
                    current = []
            current.append(piece)
    if current:
        messages.append("\n".join(current).strip("\n"))
    return [m for m in messages if m.strip()]


def _cut(line: str, limit: int) -> list[str]:
    if utf16_len(line) <= limit:
        return [line]
    # Tags would be torn apart by cutting, so fall back to escaped plain text.
    from html import unescape

    plain = unescape(_strip_tags(line))
    pieces, current = [], ""
    for word in plain.split(" "):
        candidate = f"{current} {word}" if current else word
        if utf16_len(escape(candidate, quote=False)) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(escape(current, quote=False))
        while utf16_len(escape(word, quote=False)) > limit:
            head, word = word[: limit // 8], word[limit // 8 :]
            pieces.append(escape(head, quote=False))
        current = word
    if current:
        pieces.append(escape(current, quote=False))
    return pieces


def _strip_tags(html_text: str) -> str:
    out, inside = [], False
    for ch in html_text:
        if ch == "<":
            inside = True
        elif ch == ">" and inside:
            inside = False
        elif not inside:
            out.append(ch)
    return "".join(out)
