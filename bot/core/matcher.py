"""From a normalised question (and the conversation so far) to one answer, or an honest no.

Two questions are decided separately. *Is this within the review?* Specific evidence says
no: a term from vocabulary.yaml's not_covered topics (hair loss, prices, dosing) or a term
that only sounds like a review concept (PRF). Evidence says yes: a biologic named, a cue
of an aspect, scenario or topic, or words the review's own text uses. *Which part answers
it?* Candidates (a biologic's aspect, a comparison row, a scenario, a topic, a reference)
are scored by how much of the question they explain: a cue they consume, or a word their
own claims use. Then one of three honest replies: the answer (two parts when the question
asks two things); "not sure which part you mean" with suggestions when the question is in
the review's domain but no part explains it well; "not covered" when it is outside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from rapidfuzz import fuzz, process

from bot.core import tuning
from bot.core.knowledge import Knowledge
from bot.core.lexicon import CONTENT_KINDS, FUNCTION_KINDS, PLACEHOLDER, SOCIAL_KINDS, Extraction, Hit, Lexicon
from bot.core.normalise import Normalised, normalise, stem
from bot.core.sections import Sections
from bot.core.translate import Translator

# Kinds whose cue, when a candidate consumes it, means the candidate answers what was asked.
ASKING_KINDS = frozenset(
    {"aspect", "scenario", "topic", "overview", "reference", "references_list", "about", "author", "sources"}
)


@dataclass(frozen=True)
class Slots:
    biologics: tuple[str, ...] = ()
    aspect: str | None = None
    scenario: str | None = None
    topic: str | None = None
    ref: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, ())}


@dataclass(frozen=True)
class Frame:
    """What a conversation remembers: the last biologic(s) and aspect for follow-ups, the
    biologics of recent turns ("compare them"), the last answer ("more", "sources for
    that") and the suggestions last offered ("2", "the second")."""

    biologics: tuple[str, ...] = ()
    aspect: str | None = None
    recent: tuple[str, ...] = ()
    answer_id: str | None = None
    suggestions: tuple[str, ...] = ()
    asked: str = ""


@dataclass(frozen=True)
class Candidate:
    intent: str
    slots: Slots
    family: str
    score: float
    source: str = "slots"
    owned: frozenset[int] = frozenset()  # positions of the asking cues it consumes
    focus: tuple[int, ...] = ()  # claims of the section that hold the question's specific words
    expand: tuple[int, ...] = ()  # claims shown in full: their short form drops a word asked for
    pulled: tuple[str, int] | None = None  # (section, claim) of the same biologic holding what was asked
    parts: tuple[Candidate, ...] = ()  # a question that asks two things: both answered
    rank: float = -1.0  # orders candidates: the score, nudged by how much of the question its text uses
    consumed: frozenset[int] = field(default=frozenset(), compare=False)  # hit indexes it explains
    section: str = field(default="", compare=False)  # the Sections key its text comes from

    @property
    def order(self) -> float:
        return self.rank if self.rank >= 0 else self.score


@dataclass(frozen=True)
class Match:
    answered: bool
    intent: str | None
    slots: Slots
    score: float
    # answered | unsure | not_covered | near | ambiguous | unknown_reference | chat
    # | more | sources | pick | no_previous_answer
    reason: str
    suggestions: tuple[Candidate, ...] = ()
    used_context: bool = False
    extraction: Extraction | None = field(default=None, compare=False, repr=False)
    parts: tuple[Candidate, ...] = ()
    focus: tuple[int, ...] = ()
    expand: tuple[int, ...] = ()
    pulled: tuple[str, int] | None = None
    language: str | None = None
    personal: bool = False
    outside_topic: str | None = None
    note: str | None = None
    act: str | None = None  # chat kind, or the dialogue act's target (an answer id)


def _group(hits: list[Hit]) -> dict[str, list[Hit]]:
    out: dict[str, list[Hit]] = {}
    for h in hits:
        out.setdefault(h.value, []).append(h)
    return out


class Matcher:
    """Built once at start-up from the knowledge base; ``match`` is pure."""

    def __init__(self, kb: Knowledge) -> None:
        self.kb = kb
        self.lexicon = Lexicon(kb)
        self.sections = Sections(kb)
        self.translator = Translator(kb.vocabulary.shorthand, kb.languages, self.lexicon.known)
        self.all_biologics = tuple(kb.comparison.hierarchy)
        self._phrases: list[str] = []
        self._phrase_targets: list[tuple[str, str]] = []  # (kind, id)
        # Inverted index word -> example numbers, so each question is compared only with
        # the examples that share a content word with it: the cost follows the overlap,
        # not the size of the knowledge base.
        self._postings: dict[str, list[int]] = {}
        # A phrasing taught for one biologic's answer (knowledge/learnt.yaml) answers that
        # biologic when neither the question nor the conversation names one.
        self._pins = {(t.kind, t.ident, t.phrase): t.biologics for t in kb.learnt if t.biologics}
        self._pinned: dict[int, tuple[str, ...]] = {}
        for aspect in kb.aspects.values():
            self._index_examples("aspect", aspect.id, aspect.examples)
        for scenario in kb.scenarios.values():
            self._index_examples("scenario", scenario.id, scenario.examples)
        for topic in kb.topics.values():
            self._index_examples("topic", topic.id, topic.examples)
        self.conjunctions = frozenset({"and", "plus", "also", "then", "aswell", "both"})
        self._ref_stems = {number: frozenset(self._title_stems(ref.title)) for number, ref in kb.references.items()}
        titles = list(self._ref_stems.values())
        self._title_idf = {
            s: math.log(1 + len(titles) / sum(s in t for t in titles)) for s in frozenset().union(*titles)
        }

    def _described_references(self, ex: Extraction, overlap_stems: set[str]) -> list[int]:
        """The references whose titles share the most telling words with the question ("ref
        for the adipose-derived secretome study" is Zare's, not any title saying "derived"):
        words are weighed by how few titles use them."""
        asked = {s for t, s in zip(ex.tokens, ex.stems, strict=True) if t not in self.lexicon.generic}
        telling = asked - self.sections.common
        # A biologic named in the question must be the paper's subject too: "which refs support
        # the exosome evidence" is not the PRP paper whose title says "evidence".
        named = [stem(b) for b in dict.fromkeys(h.value for h in ex.of("bio"))]
        weights: dict[int, float] = {}
        for number, stems in self._ref_stems.items():
            if any(b not in self.sections.by_key[f"ref.{number}"].stems for b in named):
                continue
            if sum(self.sections.weight(s) for s in stems & telling) >= tuning.MIN_SECTION_OVERLAP:
                weights[number] = sum(self._title_idf[s] for s in stems & asked)
        best = max(weights.values(), default=0.0)
        chosen = [n for n, w in weights.items() if w >= best - 1e-9]
        return chosen if len(chosen) == 1 else []  # "sources for platelet-rich plasma" names no one paper

    def _title_stems(self, text: str) -> set[str]:
        return {stem(t) for t in normalise(text).tokens if t not in self.lexicon.generic}

    def _index_examples(self, kind: str, ident: str, examples: tuple[str, ...]) -> None:
        for example in examples:
            canonical = self.lexicon.extract(normalise(example.replace("{b}", "PRP"))).canonical()
            number = len(self._phrases)
            if (kind, ident, example) in self._pins:
                self._pinned[number] = self._pins[(kind, ident, example)]
            self._phrases.append(canonical)
            self._phrase_targets.append((kind, ident))
            for word in set(canonical.split()) - self.lexicon.generic - {PLACEHOLDER}:
                self._postings.setdefault(word, []).append(number)

    def scenario_slots(self, scenario: str) -> Slots:
        """A scenario's slots carry its recommended biologics, for follow-ups."""
        return Slots(self.kb.scenarios[scenario].choice, scenario=scenario)

    # -- public -------------------------------------------------------------------------

    def match(self, question: Normalised, context: Frame | None = None) -> Match:
        translated, language = self.translator.translate(question)
        ex = self.lexicon.extract(translated)
        personal = self._personal(ex)
        done = self._dialogue(ex, context, language)
        if done is not None:
            return done

        near = [h for h in ex.hits if h.kind == "near"]
        named = {h.value for h in ex.of("bio")}
        for hit in near:
            # "PRF or PRP?" is about PRF; "exosomes derived from MSCs" is about exosomes; a
            # near term that itself names a biologic ("plant-derived exosomes") is the subject.
            target = self.kb.vocabulary.near_terms[int(hit.value)].nearest.split(".")[0]
            phrases = self.lexicon.bio_phrases
            names_one = any(
                getattr(phrases.get((w,)), "kind", "") == "bio" for w in ex.tokens[hit.start : hit.end]
            )
            if not named or target in named or names_one:
                return self._near(ex, hit, language, personal)

        candidates = self._candidates(ex, context)
        # Ties are broken by name, never by set order (which changes with PYTHONHASHSEED).
        ranked = sorted(candidates.values(), key=lambda c: (-c.order, -c.score, c.intent, c.slots.biologics))
        best = ranked[0] if ranked else None
        if best is not None and best.score < tuning.ANSWER_THRESHOLD:
            # "the TL;DR on safety and on regulation for all three": each part alone explains
            # half the question; together they may explain it well enough to answer.
            joined = next((c for c in ranked if c.owned and c.score >= tuning.SUGGESTION_FLOOR), None)
            combined = self._with_parts(ex, joined, ranked) if joined is not None else None
            if combined is not None and combined.parts and combined.score >= tuning.ANSWER_THRESHOLD:
                best = combined
        outside = self.kb.vocabulary.not_covered[ex.outside_topics[0]].topic if ex.outside_topics else None
        common = {"language": language, "personal": personal, "extraction": ex}
        # "tretinoin 0.05 vs 0.1% for photoaging?": an off-topic thing named, no biologic, and
        # no cue of the answer in the question: whatever the words share, it is not covered.
        unnamed = (
            outside is not None
            and best is not None
            and not ex.of("bio")
            and not any(c.owned and c.score >= tuning.ANSWER_THRESHOLD for c in (best, *ranked))
        )
        if best is None or best.score < tuning.ANSWER_THRESHOLD or unnamed:
            suggestions = tuple(c for c in ranked if c.score >= tuning.SUGGESTION_FLOOR)[: tuning.MAX_SUGGESTIONS]
            score = best.score if best else 0.0
            intent, slots = (best.intent, best.slots) if best else (None, Slots())
            used = bool(best and best.source == "context")
            if outside or not self._in_domain(ex):
                # "Is exosome therapy FDA approved?": not covered, but the regulatory section
                # is the nearest part of the review, offered as a button.
                nearest = tuple(c for c in ranked if c.owned and ex.of("bio"))[:1] if outside else ()
                return Match(False, intent, slots, score, "not_covered", nearest, used, outside_topic=outside, **common)
            return Match(False, intent, slots, score, "unsure", suggestions, used, **common)

        best = self._focused(ex, self._with_parts(ex, best, ranked))
        rival = next((c for c in ranked[1:] if c.intent != best.intent), None)
        if (
            not best.parts
            and rival is not None
            and best.score - rival.score < tuning.AMBIGUITY_MARGIN
            and rival.owned == best.owned
            and best.owned
            and rival.family == best.family
            and not _overview_pair(best, rival)
        ):
            close = tuple(c for c in ranked if best.score - c.score < tuning.AMBIGUITY_MARGIN and c.owned == best.owned)
            return Match(
                False,
                best.intent,
                best.slots,
                best.score,
                "ambiguous",
                close[: tuning.MAX_SUGGESTIONS],
                best.source == "context",
                **common,
            )
        if best.intent == "refs.lookup" and best.slots.ref not in self.kb.references:
            return Match(False, best.intent, best.slots, best.score, "unknown_reference", (), False, **common)
        return Match(
            True,
            best.intent,
            best.slots,
            best.score,
            "answered",
            (),
            best.source == "context" or any(p.source == "context" for p in best.parts),
            parts=best.parts,
            focus=best.focus,
            expand=best.expand,
            pulled=best.pulled,
            outside_topic=outside,
            **common,
        )

    # -- conversation -------------------------------------------------------------------

    def _dialogue(self, ex: Extraction, context: Frame | None, language: str | None) -> Match | None:
        """Small talk, "more", "sources for that" and picking a suggestion by number."""
        content = [p for p in (*ex.domain, *ex.unknown, *ex.outside) if ex.tokens[p] not in self.lexicon.generic]
        # A span that is also "more" or "sources" ("explain", "sources") is a conversational
        # word here, not a topic.
        social_spans = {(h.start, h.end) for h in ex.hits if h.kind in ("more", "sources", "quotes")}
        kinds = {
            h.kind
            for h in ex.hits
            if (not h.generic_only or h.kind in SOCIAL_KINDS)
            and (h.kind in SOCIAL_KINDS or (h.start, h.end) not in social_spans)
        }
        topical = kinds & (CONTENT_KINDS | {"compare", "near"})
        social = kinds & SOCIAL_KINDS
        # A pick: "2", "2.", "the second", "option 2" while suggestions are on offer.
        if context and context.suggestions and not topical and len(content) <= 1:
            pick = self._pick(ex)
            if pick is not None and 1 <= pick <= len(context.suggestions):
                return Match(True, None, Slots(), 100.0, "pick", act=context.suggestions[pick - 1], language=language)
        if topical or len(content) > 2:
            return None
        for act in ("quotes", "more", "sources"):
            if act in social:
                if context is None or context.answer_id is None:
                    if act in ("sources", "quotes"):
                        return None  # "sources" on its own: the review's reference list
                    return Match(False, None, Slots(), 0.0, "no_previous_answer", language=language)
                return Match(True, None, Slots(), 100.0, act, act=context.answer_id, language=language)
        for kind in ("chat_identity", "chat_thanks", "chat_bye", "chat_greeting"):
            if kind in social and not content:
                return Match(False, None, Slots(), 0.0, "chat", act=kind.removeprefix("chat_"), language=language)
        if social & {"chat_identity", "chat_thanks", "chat_bye", "chat_greeting"} and len(content) <= 2:
            kind = next(k for k in ("chat_identity", "chat_thanks", "chat_bye", "chat_greeting") if k in social)
            return Match(False, None, Slots(), 0.0, "chat", act=kind.removeprefix("chat_"), language=language)
        return None

    def _pick(self, ex: Extraction) -> int | None:
        numbers = [v for _, v in ex.numbers]
        ordinals = [int(h.value) for h in ex.of("ordinal") if int(h.value) > 0]
        others = [
            t
            for p, t in enumerate(ex.tokens)
            if not t.isdigit()
            and not any(h.start <= p < h.end for h in ex.of("ordinal"))
            and t not in self.lexicon.generic
        ]
        chosen = set(numbers + ordinals)  # "the first one": two words, one position
        if len(chosen) == 1 and not others:
            return chosen.pop()
        return None

    def _personal(self, ex: Extraction) -> bool:
        return bool(ex.of("personal")) and not ex.of("clinical")

    def _near(self, ex: Extraction, hit: Hit, language: str | None, personal: bool) -> Match:
        near = self.kb.vocabulary.near_terms[int(hit.value)]
        target = near.nearest
        aspects = list(_group(ex.of("aspect")))
        if target in self.kb.biologics:
            aspect = aspects[0] if aspects else None
            intent = f"{target}.{aspect}" if aspect else f"{target}.overview"
            cand = Candidate(intent, Slots((target,), aspect), "biologic", 0.0)
        elif target.startswith("scenario."):
            sid = target.removeprefix("scenario.")
            cand = Candidate(target, self.scenario_slots(sid), "scenario", 0.0)
        elif "." in target and target.split(".")[0] in self.kb.biologics:
            bio, aspect = target.split(".", 1)
            cand = Candidate(target, Slots((bio,), aspect), "biologic", 0.0)
        else:
            cand = Candidate(target, Slots(topic=target), "topic", 0.0)
        return Match(
            False,
            cand.intent,
            cand.slots,
            0.0,
            "near",
            (cand,),
            extraction=ex,
            language=language,
            personal=personal,
            note=near.note,
        )

    def _in_domain(self, ex: Extraction) -> bool:
        """Does the question name anything of the review: a biologic, an aspect, scenario or
        topic cue, a reference, or words the review's own claims use?"""
        if any(h.kind in CONTENT_KINDS and not h.generic_only for h in ex.hits):
            return True
        stems = {ex.stems[p] for p in ex.domain}
        return sum(self.sections.weight(s) for s in stems if self.sections.index.get(s)) >= tuning.MIN_SECTION_OVERLAP

    # -- candidates ---------------------------------------------------------------------

    def _candidates(self, ex: Extraction, context: Frame | None) -> dict[tuple, Candidate]:
        out: dict[tuple, Candidate] = {}
        hits = list(ex.hits)
        idx = {id(h): i for i, h in enumerate(hits)}
        asked = self._asked(ex)
        spans = self._spans(ex)
        words = self._words(ex)

        def ids(*groups: list[Hit]) -> set[int]:
            return {idx[id(h)] for g in groups for h in g}

        def add(
            intent: str,
            slots: Slots,
            family: str,
            consumed: set[int],
            prior: str,
            numbers: tuple[int, ...] = (),
            section: str | None = None,
        ) -> None:
            section = section if section is not None else intent
            score, owned = self._score(ex, consumed, section, tuning.PRIOR[prior], numbers, asked, spans, words)
            # The answer's own text should use the question's words: of two candidates that
            # explain the question equally, the one whose claims say "MMP" answers "which
            # of these knocks down MMPs".
            text = self.sections.match(section, question_weights)
            rank = score * (1 - tuning.TEXT_MATCH_WEIGHT + tuning.TEXT_MATCH_WEIGHT * text)
            if prior == "context":
                rank = score  # a follow-up's subject is what the conversation says, not word overlap
            key = (intent, slots)
            if key not in out or out[key].rank < rank:
                source = "context" if prior == "context" else "slots"
                out[key] = Candidate(
                    intent, slots, family, round(score, 1), source, owned, rank=rank,
                    consumed=frozenset(consumed), section=section,
                )

        by_kind: dict[str, list[Hit]] = {}
        for h in hits:
            by_kind.setdefault(h.kind, []).append(h)
        get = lambda kind: by_kind.get(kind, [])  # noqa: E731
        bios = list(dict.fromkeys(h.value for h in get("bio")))
        aspects = _group(get("aspect"))
        scenarios = _group(get("scenario"))
        topics = _group(get("topic"))
        function = get("followup") + get("selection")
        overlap_stems = {ex.stems[p] for p in self._content_positions(ex)}
        question_stems = overlap_stems | {
            ex.stems[p] for h in hits if h.kind not in SOCIAL_KINDS for p in range(h.start, h.end)
        }
        question_weights = self.sections.weighed(question_stems)

        # References: "ref 11", "reference 12", "Xiao paper", "references", "which ref is
        # the split-face study" (matched against the references' titles).
        # In a question about content, "which ref"/"sources" introduce a reference, not a follow-up.
        ref_cues = get("reference") + get("sources")
        if ref_cues:
            for pos, number in ex.numbers:
                add("refs.lookup", Slots(ref=number), "reference", ids(ref_cues, function), "reference", (pos,))
            if not ex.numbers and not get("author"):  # "(Zare et al)" names the paper outright
                for number in self._described_references(ex, overlap_stems):
                    # Words of the title describe the paper asked for: the reference uses them.
                    section = self.sections.by_key[f"ref.{number}"]
                    described = [
                        h
                        for h in hits
                        if (h.kind == "aspect" and h.value == "evidence")  # "the split-face trial": a paper
                        or (
                            h.kind in ("bio", "aspect")
                            and all(ex.stems[p] in section.stems for p in range(h.start, h.end))
                        )
                    ]
                    add(
                        "refs.lookup",
                        Slots(ref=number),
                        "reference",
                        ids(ref_cues, function, described),
                        "reference",
                        section=f"ref.{number}",
                    )
        for h in get("author"):  # the paper's title words explain the rest of the question
            add(
                "refs.lookup",
                Slots(ref=int(h.value)),
                "reference",
                ids([h], ref_cues, function),
                "reference",
                section=f"ref.{h.value}",
            )
        if get("references_list") and not ex.numbers:
            add("refs.list", Slots(), "reference", ids(get("references_list"), ref_cues, function), "reference")
        if get("about"):
            add("review.about", Slots(), "review", ids(get("about"), ref_cues, function), "topic")

        # "the publication", "this article" name the review a topic is part of; "ethics
        # approval", "funding" name one of its declarations, which no topic answers.
        declarations = self.sections.by_key["review.about"].stems
        review_words = [
            h for h in get("about") if not all(ex.stems[p] in declarations for p in range(h.start, h.end))
        ]
        # A topic question may use aspect words ("mechanisms of photoaging", "what studies are
        # needed"): without a biologic named, they describe the topic, not a biologic.
        topic_words = ids(*aspects.values()) if not bios else set()
        # Topics named only by their words: the few whose text shares most with the question
        # (a long story touches many topics' words; the rest cannot win and cost time).
        by_words = sorted(
            (-self.sections.overlap(k, overlap_stems), k)
            for k in self.sections.sections_with(overlap_stems)
            if k in self.kb.topics and k not in topics
        )
        unnamed = [k for weight, k in by_words if -weight >= tuning.MIN_SECTION_OVERLAP][: tuning.MAX_UNNAMED_TOPICS]
        for topic in [*topics, *unnamed]:
            group = topics.get(topic, [])
            # Named by its words only, a topic consumes no cue: they belong to what they name.
            # A weak topic cue ("skin aging") said of a biologic names what the biologic acts on,
            # not the topic: the biologic then stays unexplained by the topic.
            strong = any(h.concept.weight >= 0.9 for h in group)
            named = get("bio") if strong else []
            consumed = ids(group, function, review_words, named) | topic_words if group else ids(function)
            add(topic, Slots(topic=topic), "topic", consumed, "topic" if group else "section")

        # "or", "better", "differ" compare only when not said of one biologic alone.
        # "PRP vs microneedling" is not a comparison of biologics; "which is better?" is.
        talked = set(context.biologics) - set(bios) if context and len(bios) == 1 else set()
        two = len(bios) >= 2 or (not bios and bool(get("selection"))) or bool(talked)  # "compare w/ exos"
        compare = get("compare") + get("full_table") + (get("compare_needs_two") if two else [])
        remembered = context.recent if context and len(context.recent) >= 2 else ()
        if bios and (len(bios) >= 2 or compare):
            # "how's that different from secretome?": the biologic just discussed and the one named.
            together = set(bios) | talked if len(bios) >= 2 or talked else set(self.all_biologics)
            chosen = tuple(b for b in self.all_biologics if b in together)
            base = ids(get("bio"), compare, function)
            self._compare_candidates(add, ex, chosen, base, aspects, ids, overlap_stems, get)
            if talked and not aspects and context and context.aspect:  # "secretome for hydration?" "compare w/ exos"
                add(f"compare.{context.aspect}", Slots(chosen, context.aspect), "compare", base, "context")
            # "Why is secretome described as more physiological than exosomes?": the fact is in
            # one biologic's own claims, which also name the other; Table 1 does not say it.
            specific = self._specific_stems(ex, ids(*aspects.values(), compare))
            for bio in bios:
                for aspect in self.kb.aspects:
                    key = f"{bio}.{aspect}"
                    if self.sections.overlap(key, specific) < tuning.MIN_SECTION_OVERLAP:
                        continue
                    if self.sections.says(f"compare.{aspect}", specific) >= tuning.MIN_SECTION_OVERLAP:
                        continue
                    mine = [h for h in get("bio") if h.value == bio]
                    add(
                        key, Slots((bio,), aspect), "biologic", ids(mine, function, aspects.get(aspect, [])), "selected"
                    )
            if len(bios) >= 2:  # "combine PRP with exosomes", "secretome or exosomes after laser?"
                for scenario, group in scenarios.items():
                    # A scenario answers which to use ("best", "for redness"), not their
                    # regulation or safety: only use-like aspect words are its own.
                    use_aspects = [g for a, g in aspects.items() if a in ("benefits", "best_use")]
                    consumed = base | ids(group, *use_aspects)
                    add(f"scenario.{scenario}", self.scenario_slots(scenario), "scenario", consumed, "scenario")
        elif bios:
            bio = bios[0]
            base = ids(get("bio"), function)
            section_aspects = {
                key.split(".", 1)[1]
                for key in self.sections.sections_with(overlap_stems)
                if key.startswith(f"{bio}.") and key.split(".", 1)[1] in self.kb.aspects
            }
            # A scenario whose choice is another biologic ("doesn't want anything from a
            # donor" said of secretome) is not explained by this biologic's best use: the
            # scenario's own answer says which biologic fits instead.
            fitting = {s: g for s, g in scenarios.items() if bio in self.kb.scenarios[s].choice}
            for aspect in set(aspects) | section_aspects:
                group = aspects.get(aspect, [])
                if not group and self.sections.overlap(f"{bio}.{aspect}", overlap_stems) < tuning.MIN_SECTION_OVERLAP:
                    continue
                extra = ids(*fitting.values()) if aspect in ("benefits", "best_use") else set()
                add(
                    f"{bio}.{aspect}",
                    Slots((bio,), aspect),
                    "biologic",
                    base | ids(group) | extra,
                    "biologic" if group else "section",
                )
            if not aspects:
                if scenarios:
                    add(
                        f"{bio}.best_use",
                        Slots((bio,), "best_use"),
                        "biologic",
                        base | ids(*fitting.values()),
                        "biologic",
                    )
                    for scenario, group in scenarios.items():
                        # a shade below the biologic's own answer when it is the scenario's choice
                        add(
                            f"scenario.{scenario}",
                            self.scenario_slots(scenario),
                            "scenario",
                            base | ids(group),
                            "scenario_of_named" if scenario in fitting else "scenario",
                        )
                if get("followup") and context and context.aspect and not get("overview"):
                    aspect = context.aspect
                    add(f"{bio}.{aspect}", Slots((bio,), aspect), "biologic", base, "context")
                else:
                    add(f"{bio}.overview", Slots((bio,)), "biologic", base | ids(get("overview")), "biologic")
        else:
            use_words = ids(aspects.get("benefits", []), aspects.get("best_use", []))
            scenario_ids = set(scenarios) | {
                k.removeprefix("scenario.")
                for k in self.sections.sections_with(overlap_stems)
                if k.startswith("scenario.")
            }
            for scenario in scenario_ids:
                group = scenarios.get(scenario, [])
                if (
                    not group
                    and self.sections.overlap(f"scenario.{scenario}", overlap_stems) < tuning.MIN_SECTION_OVERLAP
                ):
                    continue
                consumed = ids(group, function, compare) | use_words if group else ids(function)
                add(
                    f"scenario.{scenario}",
                    self.scenario_slots(scenario),
                    "scenario",
                    consumed,
                    "scenario" if group else "section",
                )
            if get("selection"):  # "which of these knocks down MMPs": the one biologic whose claims say so
                # "which is most affordable": no aspect named, the words themselves point at one.
                asked_aspects = dict(aspects) or {
                    key.partition(".")[2]: []
                    for key in self.sections.sections_with(question_stems)
                    if key.partition(".")[0] in self.kb.biologics and key.partition(".")[2] in self.kb.aspects
                }
                for aspect, group in asked_aspects.items():
                    asked_words = self._specific_stems(ex, ids(group)) or question_stems  # not "data", "trial"
                    if self.sections.says(f"compare.{aspect}", asked_words) >= tuning.MIN_SECTION_OVERLAP:
                        continue  # the comparison row already says it
                    # The one biologic whose claims say the question's words, or say them far
                    # more than any other ("which has data for periorbital lines": PRP's trials).
                    weights = sorted(
                        ((self.sections.overlap(f"{b}.{aspect}", question_stems), b) for b in self.all_biologics),
                        reverse=True,
                    )
                    (top, bio), (second, _) = weights[0], weights[1]
                    if top >= tuning.MIN_SECTION_OVERLAP and (
                        second < tuning.MIN_SECTION_OVERLAP or top >= tuning.DOMINANT_OVERLAP * second
                    ):
                        add(f"{bio}.{aspect}", Slots((bio,), aspect), "biologic", ids(group, function), "selected")
            for aspect, group in aspects.items():
                if context and context.biologics:
                    mem = context.biologics
                    intent = f"{mem[0]}.{aspect}" if len(mem) == 1 else f"compare.{aspect}"
                    family = "biologic" if len(mem) == 1 else "compare"
                    add(intent, Slots(mem, aspect), family, ids(group, function, compare), "context")
                    if len(mem) > 1:
                        continue  # the remembered comparison replaces the all-three one
                chosen = remembered if compare and remembered else self.all_biologics
                add(
                    f"compare.{aspect}",
                    Slots(chosen, aspect),
                    "compare",
                    ids(group, function, compare),
                    "compare" if not remembered else "context",
                )
            if not aspects:
                for key in self.sections.sections_with(overlap_stems):
                    if key.startswith("compare.") and key.removeprefix("compare.") in self.kb.aspects:
                        aspect = key.removeprefix("compare.")
                        if self.sections.overlap(key, overlap_stems) >= tuning.MIN_SECTION_OVERLAP:
                            add(key, Slots(self.all_biologics, aspect), "compare", ids(function, compare), "section")
            if compare and not aspects and not scenarios:
                chosen = remembered or self.all_biologics
                add(
                    "compare.all",
                    Slots(chosen),
                    "compare",
                    ids(compare, function, get("overview")),
                    "compare" if not remembered else "context",
                )

        self._phrase_candidates(ex, bios, context, out, asked)
        if get("full_table"):  # "Table 1", "full comparison": the whole table, not the summary
            for key, cand in list(out.items()):
                if cand.intent == "compare.all":
                    del out[key]
                    table = replace(cand, intent="compare.table")
                    out[(table.intent, table.slots)] = table
        return out

    def _compare_candidates(self, add, ex, chosen, base, aspects, ids, overlap_stems, get) -> None:
        for aspect, group in aspects.items():
            add(f"compare.{aspect}", Slots(chosen, aspect), "compare", base | ids(group), "compare")
        for key in self.sections.sections_with(overlap_stems):
            if key.startswith("compare.") and key.removeprefix("compare.") in self.kb.aspects:
                aspect = key.removeprefix("compare.")
                if aspect not in aspects and self.sections.overlap(key, overlap_stems) >= tuning.MIN_SECTION_OVERLAP:
                    add(key, Slots(chosen, aspect), "compare", base, "section")
        if not aspects:
            # Two biologics named, nothing asked of them: a summary, unless a section says more.
            asked_to_compare = bool(get("compare") or get("compare_needs_two") or get("overview"))
            prior = "compare" if asked_to_compare else "compare_unasked"
            add("compare.all", Slots(chosen), "compare", base | ids(get("overview")), prior)

    def _phrase_candidates(
        self, ex: Extraction, bios: list[str], context: Frame | None, out: dict[tuple, Candidate], asked: bool
    ) -> None:
        """Fuzzy match the whole question against example phrasings.

        token_sort_ratio, not WRatio or partial_ratio: those rate a short example highly
        against any long question that contains it, the trap that would make "PRP for
        hair loss" look like a PRP question.
        """
        if len(ex.tokens) > tuning.MAX_PHRASE_TOKENS:
            return  # a whole-question ratio says nothing about a long message
        canonical = ex.canonical()
        if not canonical:
            return
        # Words the knowledge base has never seen count against a phrase match too.
        known = len({p for h in ex.hits for p in range(h.start, h.end)}) + len(ex.domain)
        unknown_mass = tuning.UNKNOWN_WORD_MASS_WHEN_ASKED if asked else tuning.UNKNOWN_WORD_MASS
        unknown = unknown_mass * len(ex.unknown) + tuning.OUT_OF_SCOPE_WORD_MASS * len(ex.outside)
        familiarity = known / (known + unknown) if known + unknown else 0.0
        numbers = sorted({n for word in set(canonical.split()) for n in self._postings.get(word, ())})
        if not numbers:
            return
        subset = [self._phrases[n] for n in numbers]
        for _, ratio, j in process.extract(canonical, subset, scorer=fuzz.token_sort_ratio, limit=3):
            kind, ident = self._phrase_targets[numbers[j]]
            score = round(ratio * tuning.PRIOR["phrase"] * familiarity, 1)
            if kind == "aspect":
                chosen = tuple(bios) or (context.biologics if context else ()) or self._pinned.get(numbers[j], ())
                if len(chosen) == 1:
                    cand = Candidate(f"{chosen[0]}.{ident}", Slots(chosen, ident), "biologic", score, "phrase")
                else:
                    chosen = chosen or self.all_biologics
                    cand = Candidate(f"compare.{ident}", Slots(chosen, ident), "compare", score, "phrase")
            elif kind == "scenario":
                cand = Candidate(f"scenario.{ident}", self.scenario_slots(ident), "scenario", score, "phrase")
            else:
                cand = Candidate(ident, Slots(topic=ident), "topic", score, "phrase")
            key = (cand.intent, cand.slots)
            if key not in out or out[key].score < cand.score:
                out[key] = cand

    def _with_parts(self, ex: Extraction, best: Candidate, ranked: list[Candidate]) -> Candidate:
        """A question that asks two things ("PRP safety and regulation", "mechanism + evidence
        for exosomes") gets both: the best candidate plus those whose asking cues it leaves
        unexplained, when answering them together explains the question clearly better."""
        if not best.owned:
            return best  # a best answer that asks nothing of its own cannot be a first part
        parts = [best]
        owned = set(best.owned)
        for cand in ranked[1:]:
            if len(parts) >= tuning.MAX_PARTS:
                break
            new = cand.owned - owned
            if not new or cand.source == "phrase" or cand.score < tuning.SUGGESTION_FLOOR:
                continue
            tie = best.score - cand.score <= tuning.TIE
            if not tie and not self._joined(ex, owned, new):
                continue  # "is PRP safe for periorbital use" asks one thing, with context
            if cand.family == "reference" or best.family == "reference":
                continue
            if any(_same_section(cand, p) for p in parts):
                continue
            parts.append(cand)
            owned |= cand.owned
        if len(parts) == 1:
            return best
        gain = self._explained_gain(ex, parts)
        if gain < tuning.MULTI_PART_GAIN:
            return best
        score = min(100.0, round(best.score + gain, 1))
        parts.sort(key=lambda p: min(p.owned, default=0))  # in the order they were asked
        return replace(parts[0], score=score, owned=frozenset(owned), parts=tuple(parts))

    def _focused(self, ex: Extraction, best: Candidate, others: frozenset[int] = frozenset()) -> Candidate:
        """The order of claims to show, for the answer chosen (computed for it alone).

        Every content word counts, cues included: "which miRNAs" puts the microRNA claim
        first even though "miRNAs" is also the cue that chose the mechanism section. The
        words another part of a two-part answer owns ("PRP *safety* and regulation") do not.
        """
        parts = tuple(
            self._focused(ex, p, frozenset().union(*(q.owned for q in best.parts if q is not p)))
            for p in best.parts
        )
        section = best.section or best.intent
        stems = {ex.stems[p] for p in self._content_positions(ex) if p not in others}
        return replace(
            best,
            focus=self.sections.focus(section, stems),
            expand=self.sections.expand(section, stems),
            pulled=self.sections.pull(section, stems),
            parts=parts,
        )

    def _joined(self, ex: Extraction, first: set[int], second: set[int]) -> bool:
        """Is there an "and", "plus", "also" (or "&", "+") between the two parts' cues?"""
        if not first or not second:
            return False
        a_end, b_start = (max(first), min(second)) if min(first) < min(second) else (max(second), min(first))
        return any(ex.tokens[p] in self.conjunctions for p in range(a_end + 1, b_start))

    def _explained_gain(self, ex: Extraction, parts: list[Candidate]) -> float:
        """How much more of the question (per cent of its words) the other parts answer."""
        extra = sum(len(p.owned - parts[0].owned) for p in parts[1:])
        total = len([p for p in range(len(ex.tokens)) if not self.lexicon.is_generic(ex.tokens[p])]) or 1
        return 100.0 * extra / total

    # -- scoring ------------------------------------------------------------------------

    @staticmethod
    def _asks(ex: Extraction, position: int) -> bool:
        """Is this position in the asking sentence of a message with several sentences?"""
        return ex.weight(position) == 1.0 and any(w < 1.0 for w in ex.weights)

    def _asked(self, ex: Extraction) -> bool:
        """Does the question name what it asks (a strong aspect, scenario or topic cue)?"""
        return any(h.kind in ASKING_KINDS and h.concept.weight >= 0.9 and not h.generic_only for h in ex.hits)

    def _content_positions(self, ex: Extraction) -> set[int]:
        positions = set(ex.domain)
        for h in ex.hits:
            if h.kind in ("aspect", "scenario", "topic", "overview", "compare", "about") and not h.generic_only:
                positions.update(range(h.start, h.end))
        return {p for p in positions if ex.tokens[p] not in self.lexicon.generic}

    def _specific_stems(self, ex: Extraction, consumed: set[int]) -> set[str]:
        """Question words beyond the cues a candidate consumed: they pick the claims to show."""
        used = {p for i in consumed for p in range(ex.hits[i].start, ex.hits[i].end)}
        return {ex.stems[p] for p in self._content_positions(ex) if p not in used}

    def _words(self, ex: Extraction) -> _Words:
        """The words outside any cue and the cues' sureness, weighed once per question."""
        unknown = [p for p in ex.unknown if not ex.tokens[p].isdigit()]  # "I'm 47": a number is not a topic
        return _Words(
            tuple((p, ex.weight(p), ex.stems[p]) for p in ex.domain),
            sum(tuning.UNKNOWN_WORD_MASS * ex.weight(p) for p in unknown),
            sum(tuning.UNKNOWN_WORD_MASS_WHEN_ASKED * ex.weight(p) for p in unknown),
            frozenset(p for p in ex.unknown if ex.tokens[p].isdigit()),
            sum(max(tuning.OUT_OF_SCOPE_WORD_MASS * ex.weight(p), 1.0) for p in ex.outside),
            tuple(h.strength * (0.8 + 0.2 * h.concept.weight) for h in ex.hits),
        )

    def _spans(self, ex: Extraction) -> tuple[_Span, ...]:
        """What every candidate's score needs from the question, computed once per question."""
        grouped: dict[tuple[int, int], list[tuple[int, Hit]]] = {}
        for i, h in enumerate(ex.hits):
            grouped.setdefault((h.start, h.end), []).append((i, h))
        bio_positions = {p for h in ex.hits if h.kind in ("bio", "near") for p in range(h.start, h.end)}
        # The asking sentence of a story may be all everyday words ("What actually is it?"):
        # then those words are what it asks. Not when it names something itself ("why do
        # exosomes come last in the hierarchy, if ...": the hierarchy is asked).
        bare = not any(
            not h.generic_only and h.kind not in ("bio", "near", *SOCIAL_KINDS) and ex.weight(h.start) == 1.0
            for h in ex.hits
        )
        spans = []
        for (start, end), items in grouped.items():
            group = [h for _, h in items]
            # A biologic named while setting the scene is still what the question is about.
            w = 1.0 if any(h.kind == "bio" for h in group) else max(ex.weight(p) for p in range(start, end))
            # Words are the unit of mass: "no downtime" weighs as much as "bride wedding".
            words = max(
                1, sum(not self.lexicon.is_generic(ex.tokens[p]) and p not in bio_positions for p in range(start, end))
            )
            generic = all(h.generic_only for h in group)
            # A biologic however written ("exos", "MSC-CM") is named by a section that says
            # its name: the section's text uses the name, not the shorthand.
            named = tuple(dict.fromkeys(stem(h.value) for h in group if h.kind == "bio"))
            conversational = any(h.kind == "more" for h in group)  # "explain", "why"
            # "which ref" in a question about content asks for a reference: it counts.
            social = all(h.kind in SOCIAL_KINDS and h.kind != "sources" for h in group)
            idiom = (end - start >= 2 and any(h.kind in ("topic", "scenario") for h in group)) or (
                # "what's in it", "how does it work": everyday words, one question
                end - start >= 2
                and any(h.kind == "aspect" for h in group)
                and any(ex.tokens[p] not in _OPENERS for p in range(start, end) if p not in bio_positions)
            )
            if generic and bare and self._asks(ex, start) and any(h.kind in ("aspect", "overview") for h in group):
                m = 1.0  # "What actually is MSC secretome?" after a story: the words that ask
            elif generic and idiom:
                m = 1.0  # "have in common" names a topic though each word is everyday
            elif generic or social:
                m = 0.0
            elif all(h.kind in FUNCTION_KINDS for h in group):
                m = 0.3
            else:
                m = 1.0 * words
            describes = all(
                h.kind in ("scenario", "topic", "overview", "bio") or (h.kind == "aspect" and h.concept.weight < 0.9)
                for h in group
            )
            strong_question = any(h.kind in ("aspect", "scenario", "topic") and h.concept.weight >= 0.9 for h in group)
            spans.append(
                _Span(
                    start, end, tuple(items), frozenset(i for i, _ in items),
                    m * w, 0.0 if conversational else m * w, describes, strong_question,
                    max(h.concept.weight for h in group), named or tuple(ex.stems[start:end]),
                )
            )
        return tuple(spans)

    def _score(
        self,
        ex: Extraction,
        consumed: set[int],
        section: str,
        prior: float,
        numbers: tuple[int, ...],
        asked: bool,
        spans: tuple[_Span, ...],
        words: _Words,
    ) -> tuple[float, frozenset[int]]:
        """How much of the question the candidate explains, times how sure each cue is."""
        found = self.sections.by_key.get(section)
        stems = found.stems if found is not None else frozenset()
        mass = explained = 0.0
        owned: set[int] = set()
        section_words = 0
        for span in spans:
            m_unused = span.mass_unused
            if span.ids.isdisjoint(consumed):
                if m_unused and (span.describes or section.startswith("ref.")) and all(s in stems for s in span.stems):
                    # "collagen" names a scenario, but a mechanism claim that says "collagen"
                    # explains it too. An unused *aspect* cue ("evidence") stays unexplained:
                    # it says what kind of answer was asked for.
                    explained += m_unused * tuning.SECTION_WORD_CREDIT
                    section_words += 1
                else:
                    explained += m_unused * (1 - span.weight * (1 - tuning.UNUSED_CUE_CREDIT))
                mass += m_unused
                continue
            used = [h for i, h in span.items if i in consumed]
            m = span.mass_used
            if span.strong_question and all(h.kind in ("compare", "compare_needs_two", *FUNCTION_KINDS) for h in used):
                # "evidence hierarchy" is both a comparison word and an aspect cue: a comparison of
                # another aspect uses the first and leaves the question's aspect unanswered.
                explained += m * tuning.UNUSED_CUE_CREDIT
            else:
                explained += m * max(h.strength for h in used)
                if m and any(_defines(h, section) and h.concept.weight >= 0.9 for h in used):
                    owned.update(range(span.start, span.end))
            mass += m
        for pos, w, stem_ in words.domain:
            mass += w
            if pos in numbers:
                explained += w
            elif stem_ in stems:
                explained += w * tuning.SECTION_WORD_CREDIT
                section_words += 1
            else:
                explained += w * tuning.DOMAIN_WORD_CREDIT
        mass += words.unknown_mass_asked if asked else words.unknown_mass
        for pos in numbers:  # a reference's number explains itself ("ref 11")
            if pos in words.unknown_numbers:
                mass += 1.0
                explained += 1.0
        # A not-covered term weighs less in a sentence that only sets the scene ("...for an
        # extra fee. What does the evidence show?"); the answer then says what is not covered.
        mass += words.outside_mass
        if not consumed and not section_words:
            return 0.0, frozenset()
        coverage = explained / mass if mass else 1.0
        quality = sum(words.quality[i] for i in consumed) / len(consumed) if consumed else tuning.SECTION_ONLY_QUALITY
        return 100.0 * coverage * quality * prior, frozenset(owned)


@dataclass(frozen=True)
class _Span:
    """Hits over the same words, with what scoring needs of them precomputed."""

    start: int
    end: int
    items: tuple[tuple[int, Hit], ...]  # (hit index, hit)
    ids: frozenset[int]  # the hit indices of ``items``
    mass_used: float
    mass_unused: float
    describes: bool  # names a thing a section's text may also say (not a kind of answer)
    strong_question: bool  # a strong aspect, scenario or topic cue
    weight: float
    stems: tuple[str, ...]


@dataclass(frozen=True)
class _Words:
    """What scoring needs of the words no cue covers, the same for every candidate."""

    domain: tuple[tuple[int, float, str], ...]  # (position, weight, stem) of the review's words
    unknown_mass: float
    unknown_mass_asked: float  # unknown words weigh less when the question names what it asks
    unknown_numbers: frozenset[int]
    outside_mass: float
    quality: tuple[float, ...]  # per hit: how sure the cue is


# Words that open any question: a cue made only of them ("what is it") says a question
# is being asked, not which.
_OPENERS = frozenset(
    {"what", "whats", "is", "are", "it", "they", "how", "does", "do", "did", "can", "could", "why", "when",
     "who", "which", "exactly", "really", "the", "a", "should", "i", "we", "you", "its", "their", "them"}
)


def _defines(hit: Hit, section: str) -> bool:
    """Does this cue name the section itself (not just a word it also uses)?"""
    if hit.kind == "aspect":
        return section.endswith(f".{hit.value}")
    if hit.kind == "scenario":
        return section == f"scenario.{hit.value}"
    if hit.kind == "topic":
        return section == hit.value
    if hit.kind == "about":
        return section == "review.about"
    return hit.kind in ASKING_KINDS


def _same_section(a: Candidate, b: Candidate) -> bool:
    return a.intent == b.intent or (a.slots.aspect is not None and a.slots.aspect == b.slots.aspect)


def _overview_pair(a: Candidate, b: Candidate) -> bool:
    return a.intent.endswith(".overview") or b.intent.endswith(".overview")
