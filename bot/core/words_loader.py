"""Read the matcher's word data: vocabulary.yaml and the language glossaries.

Kept apart from ``loader`` (which reads the medical content) because these files say how
people ask, not what the review says; their checks are about words colliding, not about
citations. Problems are reported through the loader's reader, so ``kb check`` lists them
with the rest as ``file: entry: field: message``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.core.knowledge import Glossary, NearTerm, OutsideTopic, Refusal, Vocabulary

if TYPE_CHECKING:
    from bot.core.loader import _Reader

LIST_KEYS = (
    "followup",
    "compare",
    "compare_needs_two",
    "full_table",
    "selection",
    "reference",
    "references_list",
    "about",
    "fillers",
    "generic",
    "personal",
    "clinical",
    "qualifiers",
    "idioms",
)
CHAT_KINDS = ("greeting", "thanks", "identity", "bye")
VOCABULARY_KEYS = (*LIST_KEYS, "not_covered", "near_terms", "chat", "dialogue", "shorthand", "refusal")
GLOSSARY_KEYS = ("language", "reply_note", "markers", "phrases", "words", "drop")


def read_vocabulary(r: _Reader, data: dict, near_targets: set[str]) -> Vocabulary:
    """``near_targets``: every id a near term may point at (biologics, sections, scenarios, topics)."""
    r.only(data, VOCABULARY_KEYS, "vocabulary", "-")
    lists = {key: r.texts(data.get(key), key, "-") for key in LIST_KEYS}

    outside = []
    for i, raw in enumerate(r.seq(data.get("not_covered"), "not_covered", "-")):
        entry = f"not_covered[{i}]"
        item = r.mapping(raw, entry, "-")
        r.only(item, ("topic", "terms", "nearest"), entry, "-")
        nearest = r.text(item.get("nearest"), entry, "nearest") if "nearest" in item else ""
        if nearest and nearest not in near_targets:
            r.problem(entry, "nearest", f"unknown target {nearest!r} (a topic id)")
        outside.append(
            OutsideTopic(
                r.text(item.get("topic"), entry, "topic"), r.texts(item.get("terms"), entry, "terms"), nearest
            )
        )

    near = []
    for i, raw in enumerate(r.seq(data.get("near_terms"), "near_terms", "-", required=False)):
        entry = f"near_terms[{i}]"
        item = r.mapping(raw, entry, "-")
        r.only(item, ("terms", "nearest", "note"), entry, "-")
        nearest = r.text(item.get("nearest"), entry, "nearest")
        if nearest and nearest not in near_targets:
            r.problem(
                entry, "nearest", f"unknown target {nearest!r} (a biologic, biologic.aspect, scenario.ID or topic)"
            )
        near.append(
            NearTerm(r.texts(item.get("terms"), entry, "terms"), nearest, r.text(item.get("note"), entry, "note"))
        )

    chat_raw = r.mapping(data.get("chat"), "chat", "-")
    r.only(chat_raw, CHAT_KINDS, "chat", "-")
    chat = {kind: r.texts(chat_raw.get(kind), "chat", kind) for kind in CHAT_KINDS}

    dialogue = r.mapping(data.get("dialogue"), "dialogue", "-")
    r.only(dialogue, ("more", "sources", "quotes", "ordinals"), "dialogue", "-")
    ordinals: dict[str, int] = {}
    for word, value in r.mapping(dialogue.get("ordinals"), "dialogue", "ordinals").items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            r.problem("dialogue", f"ordinals.{word}", f"expected a position (0 = a word to skip), got {value!r}")
        else:
            ordinals[str(word)] = value

    refusal = None
    if data.get("refusal") is not None:
        raw_refusal = r.mapping(data.get("refusal"), "refusal", "-")
        r.only(raw_refusal, ("scenario", "negations", "others"), "refusal", "-")
        scenario = r.text(raw_refusal.get("scenario"), "refusal", "scenario")
        if scenario and f"scenario.{scenario}" not in near_targets:
            r.problem("refusal", "scenario", f"unknown scenario {scenario!r}")
        refusal = Refusal(
            scenario,
            r.texts(raw_refusal.get("negations"), "refusal", "negations"),
            r.texts(raw_refusal.get("others"), "refusal", "others"),
        )

    return Vocabulary(
        **lists,
        refusal=refusal,
        not_covered=tuple(outside),
        near_terms=tuple(near),
        chat=chat,
        more=r.texts(dialogue.get("more"), "dialogue", "more"),
        sources=r.texts(dialogue.get("sources"), "dialogue", "sources"),
        quotes=r.texts(dialogue.get("quotes"), "dialogue", "quotes", required=False),
        ordinals=ordinals,
        shorthand=_mapping_glossary(r, data.get("shorthand"), "shorthand"),
    )


def read_glossary(r: _Reader, data: dict) -> Glossary:
    """One language file (e.g. indonesian.yaml)."""
    r.only(data, GLOSSARY_KEYS, "glossary", "-")
    language = r.text(data.get("language"), "language", "-")
    return Glossary(
        language=language,
        reply_note=r.text(data.get("reply_note"), "reply_note", "-"),
        phrases=_pairs(r, data.get("phrases"), "phrases"),
        words=_pairs(r, data.get("words"), "words", allow_empty=True),
        drop=r.texts(data.get("drop"), "drop", "-"),
        markers=r.texts(data.get("markers"), "markers", "-"),
    )


def _mapping_glossary(r: _Reader, value: Any, entry: str) -> Glossary:
    return Glossary("", "", {}, _pairs(r, value, entry))


def _pairs(r: _Reader, value: Any, entry: str, *, allow_empty: bool = False) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, target in r.mapping(value, entry, "-").items():
        if isinstance(target, bool) or isinstance(key, bool):
            r.problem(entry, str(key), "quote it: YAML reads yes/no/on/off/true as booleans")
            continue
        if target is None or (allow_empty and target == ""):
            out[str(key)] = ""
            continue
        out[str(key)] = r.text(target, entry, str(key))
    return out
