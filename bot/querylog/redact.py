"""Scrub patient details from question text before it is stored anywhere.

Clinicians paste notes: e-mail addresses, phone numbers, dates of birth, record numbers.
Each is replaced by a placeholder; the question stays readable enough to cluster.
"""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    # Dates: 12/03/2024, 2024-03-12, 12.03.24, 3 March 2024, March 3, 2024
    (re.compile(r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b"), "[date]"),
    (re.compile(r"\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b"), "[date]"),
    (
        re.compile(
            r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s+\d{2,4}\b"
            r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{2,4}\b",
            re.IGNORECASE,
        ),
        "[date]",
    ),
    # Phone numbers (+62 812-3456-7890, (021) 555 1234, 0812 3456 7890): see _phone.
    # Long digit runs: medical record numbers, national ids.
    (re.compile(r"\b\d{6,}\b"), "[number]"),
)


_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,5}){1,4}(?![\w])")
_INTERNATIONAL = re.compile(r"\+\d{7,15}\b")


def _phone(match: re.Match[str]) -> str:
    """Digit groups make a phone number only when there are enough digits for one."""
    return "[phone]" if sum(ch.isdigit() for ch in match.group()) >= 7 else match.group()


def redact(text: str) -> str:
    for pattern, placeholder in _PATTERNS[:-1]:
        text = pattern.sub(placeholder, text)
    text = _INTERNATIONAL.sub("[phone]", text)
    text = _PHONE.sub(_phone, text)
    pattern, placeholder = _PATTERNS[-1]
    return pattern.sub(placeholder, text)
