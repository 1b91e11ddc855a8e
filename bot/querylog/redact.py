"""Scrub patient details from question text before it is stored anywhere.

Clinicians paste notes: e-mail addresses, phone numbers, dates of birth, record numbers,
national ids (NIK), insurance numbers, names after a title or "patient", ages. Each is
replaced by a placeholder; the question stays readable enough to cluster. Everything the
query log derives from a question (normalised text, gap clusters, learnt phrasings) is
derived from the redacted text, so a detail missed here is the only way one gets stored.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Insurance and membership numbers after a keyword: "BPJS 0001234567890", "policy no. AXA-99812-X".
_INSURANCE = re.compile(
    r"(?i:\b(?:bpjs|kis|jkn|insurance|asuransi|policy|polis|member(?:ship)?|card|kartu)\b)"
    r"(?:\s*(?i:no|nomor|number|nr|id)\b\.?)?\s*[:#]?\s*"
    r"([A-Za-z0-9][A-Za-z0-9/-]{3,})"
)
# Indonesian national id (NIK): 16 digits, sometimes written in groups of four.
_NIK = re.compile(r"\b\d{4}[ .-]?\d{4}[ .-]?\d{4}[ .-]?\d{4}\b")
_DATES: tuple[re.Pattern[str], ...] = (
    # 12/03/2024, 2024-03-12, 12.03.24, 3 March 2024, March 3, 2024
    re.compile(r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b"),
    re.compile(r"\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b"),
    re.compile(
        r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s+\d{2,4}\b"
        r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{2,4}\b",
        re.IGNORECASE,
    ),
)
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,5}){1,4}(?![\w])")
_INTERNATIONAL = re.compile(r"\+\d{7,15}\b")
# Long digit runs: medical record numbers, national ids.
_DIGITS = re.compile(r"\b\d{6,}\b")
# A title or patient word followed by capitalised words: "Mrs Siti Rahayu", "pt. Budi", "Ibu Sari".
_TITLE = r"(?i:mr|mrs|ms|miss|mx|dr|drg|prof|ibu|bu|bapak|pak|tn|ny|nn|sdr|sdri|pt|patient|pasien)"
_CAPITALISED = r"[A-ZÀ-Þ][a-zß-ÿ]*(?:['’-][A-Za-zÀ-ÿ]+)*\b"
_NAME = re.compile(rf"\b({_TITLE}\.?)(\s+){_CAPITALISED}(?:\s+{_CAPITALISED})*")
# Ages: "54 yo", "54 y.o.", "54-year-old", "54 years old", "aged 54", "usia 54 tahun", "Rahayu, 54,".
_AGE = re.compile(r"\b\d{1,3}\s*-?\s*(?:y\.?\s?o\b\.?|y/o\b|(?:years?|yrs?)[\s-]+old\b)", re.IGNORECASE)
_AGED = re.compile(r"\b(aged?|usia|umur)(\s*:?\s*)\d{1,3}\b(?:\s*(?:years?|yrs?|tahun|thn)\b)?", re.IGNORECASE)
_AGE_AFTER_NAME = re.compile(r"(?<=[^\W\d_]|\]),\s*\d{1,3}\s*(?:years?|yrs?|tahun|thn|th|y)?(?=\s*(?:[,;.)]|$))")


def _phone(match: re.Match[str]) -> str:
    """Digit groups make a phone number only when there are enough digits for one."""
    return "[phone]" if sum(ch.isdigit() for ch in match.group()) >= 7 else match.group()


def _insurance(match: re.Match[str]) -> str:
    """Keep the keyword; replace the number only when it has enough digits to be one."""
    number = match.group(1)
    if sum(ch.isdigit() for ch in number) < 4:
        return match.group()
    return match.group()[: match.start(1) - match.start()] + "[id]"


def redact(text: str) -> str:
    text = _EMAIL.sub("[email]", text)
    text = _INSURANCE.sub(_insurance, text)
    text = _NIK.sub("[id]", text)
    for pattern in _DATES:
        text = pattern.sub("[date]", text)
    text = _INTERNATIONAL.sub("[phone]", text)
    text = _PHONE.sub(_phone, text)
    text = _DIGITS.sub("[number]", text)
    text = _NAME.sub(r"\1\2[name]", text)
    text = _AGE.sub("[age]", text)
    text = _AGED.sub(r"\1\2[age]", text)
    return _AGE_AFTER_NAME.sub(", [age]", text)
