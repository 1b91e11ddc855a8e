"""Turns that talk about the conversation rather than the review: small talk, "more",
"sources for that", and picking an offered suggestion by number."""

from __future__ import annotations

from bot.core.lexicon import CONTENT_KINDS, SOCIAL_KINDS, Extraction
from bot.core.matching.forms import Form
from bot.core.matching.types import Frame, Match, Slots
from bot.core.matching.world import World

_PLAIN = Form()
_CHAT = ("chat_identity", "chat_thanks", "chat_bye", "chat_greeting")


def _reasoned(context: Frame) -> bool:
    """Was the last answer about biologics (one's aspect, or a comparison)? A bare "why?"
    after one asks for the review's reasons, which matching finds; after a scenario or a
    topic it asks for the rest of that answer, whose rationale is the reason."""
    answer = context.answer_id or ""
    if answer.startswith("cmp-"):
        return True
    return any(answer.startswith(f"{b}-") and not answer.startswith(f"{b}-overview") for b in context.biologics)


def dialogue(
    world: World, ex: Extraction, context: Frame | None, language: str | None, form: Form = _PLAIN
) -> Match | None:
    """The dialogue act this turn is, or None when it asks about the review."""
    generic = world.lexicon.generic
    content = [p for p in (*ex.domain, *ex.unknown, *ex.outside) if ex.tokens[p] not in generic]
    # A span that is also "more" or "sources" ("explain", "sources") is a conversational
    # word here, not a topic.
    social_spans = {(h.start, h.end) for h in ex.hits if h.kind in ("more", "sources", "quotes")}
    kinds = {
        h.kind
        for h in ex.hits
        if (not h.generic_only or h.kind in SOCIAL_KINDS)
        and (h.kind in SOCIAL_KINDS or (h.start, h.end) not in social_spans)
    }
    # A not-covered term is a topic too: "and does it help acne scars?" asks about scars.
    topical = kinds & (CONTENT_KINDS | {"compare", "near"}) or (set() if not ex.outside else {"outside"})
    social = kinds & SOCIAL_KINDS
    # "which refs support that?": sources for the answer pointed at, whatever verb is used.
    pointing = {"that", "this", "those", "these"} & set(ex.tokens)
    if "sources" in social and pointing and context and context.answer_id and not ex.of("bio") and not ex.numbers:
        return Match(True, None, Slots(), 100.0, "sources", act=context.answer_id, language=language)
    # A pick: "2", "2.", "the second", "option 2" while suggestions are on offer.
    if context and context.suggestions and not topical and len(content) <= 1:
        chosen = pick(world, ex)
        if chosen is not None and 1 <= chosen <= len(context.suggestions):
            return Match(True, None, Slots(), 100.0, "pick", act=context.suggestions[chosen - 1], language=language)
    if topical or len(content) > 2:
        return None
    for act in ("quotes", "more", "sources"):
        if act in social:
            if context is None or context.answer_id is None:
                if act in ("sources", "quotes"):
                    return None  # "sources" on its own: the review's reference list
                return Match(False, None, Slots(), 0.0, "no_previous_answer", language=language)
            if act == "more" and form.why and _reasoned(context):
                return None  # the reasons behind the last answer, not the rest of it
            return Match(True, None, Slots(), 100.0, act, act=context.answer_id, language=language)
    chat = next((k for k in _CHAT if k in social), None)
    if chat is not None and len(content) <= 2:
        return Match(False, None, Slots(), 0.0, "chat", act=chat.removeprefix("chat_"), language=language)
    return None


def pick(world: World, ex: Extraction) -> int | None:
    """The number of the suggestion chosen ("2", "the second"), if that is all the turn says."""
    numbers = [v for _, v in ex.numbers]
    ordinals = [int(h.value) for h in ex.of("ordinal") if int(h.value) > 0]
    others = [
        t
        for p, t in enumerate(ex.tokens)
        if not t.isdigit()
        and not any(h.start <= p < h.end for h in ex.of("ordinal"))
        and t not in world.lexicon.generic
    ]
    chosen = set(numbers + ordinals)  # "the first one": two words, one position
    if len(chosen) == 1 and not others:
        return chosen.pop()
    return None
