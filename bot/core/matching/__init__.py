"""Matching: a question (and the conversation) in, one decision out. ``Matcher`` is the
entry point; ``types`` holds what it hands on."""

from bot.core.matching.matcher import Matcher
from bot.core.matching.types import Candidate, Frame, Match, Slots

__all__ = ["Candidate", "Frame", "Match", "Matcher", "Slots"]
