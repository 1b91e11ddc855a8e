"""Scrub patient details from question text before it is stored anywhere.

Clinicians paste notes: e-mail addresses, phone numbers, dates of birth, record numbers,
national ids (NIK), insurance numbers, names after a title or "patient", ages. Each is
replaced by a placeholder; the question stays readable enough to cluster. Everything the
query log derives from a question (normalised text, gap clusters, learnt phrasings) is
derived from the redacted text, so a detail missed here is the only way one gets stored.
"""

from __future__ import annotations

import re
import unicodedata

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# "siti dot rahayu at gmail dot com", "siti [at] gmail (dot) com"
_SPELLED_EMAIL = re.compile(
    r"\b[\w.+-]+(?:\s*(?:\(dot\)|\[dot\]|\sdot\s)\s*[\w+-]+)*\s*(?:\(at\)|\[at\]|\sat\s)\s*[\w-]+"
    r"(?:\s*(?:\(dot\)|\[dot\]|\sdot\s)\s*[a-z]{2,})+\b",
    re.IGNORECASE,
)
_ADDRESS_NUMBER = re.compile(r"\[address\]\s*(?:no\.?\s*)?\d+\w*", re.IGNORECASE)  # the house number the street took
# Medical record numbers: "no RM 12345", "MRN: A-123456", "rekam medis 0098", "record no. 4411".
_RECORD = re.compile(
    r"\b(?:no\.?\s*rm|nrm|rm|mrn|urn|rekam\s+medis|medical\s+record(?:\s+(?:no|number))?|record\s+(?:no|number)|"
    r"hospital\s+(?:no|number))\b\.?\s*[:#]?\s*[A-Za-z]{0,3}-?\d[\w/-]{2,}",
    re.IGNORECASE,
)
# Addresses: "Jl. Sudirman No. 45", "Jalan Merdeka 12", "RT 03/RW 05", "12 Baker Street".
_ADDRESS = re.compile(
    r"\b(?:jl|jln|jalan|gg|gang)\.?\s+[^\W\d_][\w.'-]*(?:\s+[^\W\d_][\w.'-]*){0,3}(?:\s+no\.?\s*\d+\w*)?"
    r"|\brt\.?\s*\d{1,3}\s*/\s*rw\.?\s*\d{1,3}\b"
    r"|\b\d{1,5}\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?\s+(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr)\b\.?",
    re.IGNORECASE,
)
# Insurance and membership numbers after a keyword: "BPJS 0001234567890", "policy no. AXA-99812-X".
_INSURANCE = re.compile(
    r"(?i:\b(?:bpjs|kis|jkn|insurance|asuransi|policy|polis|member(?:ship)?|card|kartu)\b)"
    r"(?:\s*(?i:no|nomor|number|nr|id)\b\.?)?\s*[:#]?\s*"
    r"([A-Za-z0-9][A-Za-z0-9/-]{3,})"
)
# Indonesian national id (NIK): 16 digits, sometimes written in groups of four.
_NIK = re.compile(r"\b\d{4}[ .-]?\d{4}[ .-]?\d{4}[ .-]?\d{4}\b")
# English and Indonesian month names and their short forms ("5 Mei 1980", "17 Agustus 1975").
_MONTHS = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|januari|februari|maret|mei|juni|juli|agustus|agu|agt"
    r"|okt|oktober|desember|des|nopember)[a-z]*"
)
_DATES: tuple[re.Pattern[str], ...] = (
    # 12/03/2024, 2024-03-12, 12.03.24, 3 March 2024, March 3, 2024
    re.compile(r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b"),
    re.compile(r"\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b"),
    re.compile(
        rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS}\.?,?\s+\d{{2,4}}\b"
        rf"|\b{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{2,4}}\b",
        re.IGNORECASE,
    ),
)
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,5}){1,4}(?![\w])")
_INTERNATIONAL = re.compile(r"\+\d{7,15}\b")
# Long digit runs: medical record numbers, national ids.
_DIGITS = re.compile(r"\b\d{6,}\b")
# A title or patient word followed by capitalised words: "Mrs Siti Rahayu", "pt. Budi", "Ibu Sari".
_TITLE = (
    r"(?i:mr|mrs|ms|miss|mx|dr|drg|prof|dokter|ibu|bu|bapak|pak|tn|ny|nn|sdr|sdri|pt|patient|pasien|client|klien"
    r"|named|called)"
)
# A name is Capitalised, or in capitals ("SITI RAHAYU") when it is not one of the field's
# own acronyms ("pasien PRP" names no one).
_ACRONYMS = r"(?:PRP|PRF|MSCS?|EVS?|CO2|RCTS?|GMP|FDA|BPOM|HA|IPL|RF|LED|UV|ECM|MMPS?|NF|EXOS?|PDGF|VEGF|HGF|EGF|IGF)"
_CAPITALISED = (
    r"(?:(?:[A-ZÀ-Þ][a-zß-ÿ]+|(?!" + _ACRONYMS + r"\b)[A-ZÀ-Þ]{2,})(?:['’-][A-Za-zÀ-ÿ]+)*\b"
    r"|[A-ZÀ-Þ]\.(?=\s*[A-ZÀ-Þ]))"  # an initial: "J. Smith"
)
_NAME = re.compile(rf"\b({_TITLE}\.?)(\s*[,:]?\s+){_CAPITALISED}(?:\.?\s*{_CAPITALISED})*")
# Titles that only ever precede a name ("mrs dewi lestari", "tn budi") and the words that
# introduce one ("bernama ayu", "a/n budi"): the next one to three words are the name in any
# case, unless they are everyday words ("mrs asked"). Not "ibu", "dokter": "ibu hamil" is a
# pregnant woman, "dokter kulit" a dermatologist.
_HONORIFIC = r"(?i:mr|mrs|ms|miss|mx|tn|ny|nn)"
_NAMED = re.compile(
    rf"\b({_HONORIFIC}\.?\s+|(?i:bernama|atas\s+nama|a/n)\s*:?\s*)"
    r"([^\W\d_][\w'’-]*(?:\s+[^\W\d_][\w'’-]*){0,2})"
)
_NOT_NAME = frozenset(
    {
        "a", "an", "the", "and", "or", "with", "who", "whose", "is", "was", "has", "had", "wants", "want", "asked",
        "asks", "says", "said", "about", "for", "to", "of", "in", "on", "at", "prp", "exosome", "exosomes",
        "secretome", "mau", "ingin", "minta", "tanya", "yang", "dan", "dengan", "ini", "itu", "sudah", "pernah",
        "usia", "umur", "tahun", "years", "year", "old", "here", "there", "she", "he", "her", "his", "i", "my",
        "we", "our",
    }
)
# Ages: "54 yo", "54 y.o.", "54-year-old", "54 years old", "aged 54", "usia 54 tahun", "Rahayu, 54,".
_AGE = re.compile(
    r"\b\d{1,3}\s*-?\s*(?:y\.?\s?o\b\.?|yo\b|y/o\b|(?:years?|yrs?)[\s-]+old\b|tahun\b|thn\b|th\b)", re.IGNORECASE
)
_AGED = re.compile(
    r"\b(aged?|usia|umur|berusia|umurnya|usianya)(\s*:?\s*)\d{1,3}\b(?:\s*(?:years?|yrs?|tahun|thn)\b)?", re.IGNORECASE
)
_AGE_AFTER_NAME = re.compile(
    r"(?<=[^\W\d_]|\]),\s*\d{1,3}\s*(?:years?|yrs?|tahun|thn|th|y)?(?=\s*(?:[,;)]|\.(?!\d)|$))"
)


def _phone(match: re.Match[str]) -> str:
    """Digit groups make a phone number only when there are enough digits for one."""
    return "[phone]" if sum(ch.isdigit() for ch in match.group()) >= 7 else match.group()


def _insurance(match: re.Match[str]) -> str:
    """Keep the keyword; replace the number only when it has enough digits to be one."""
    number = match.group(1)
    if sum(ch.isdigit() for ch in number) < 4:
        return match.group()
    return match.group()[: match.start(1) - match.start()] + "[id]"


def _named(match: re.Match[str]) -> str:
    words = match.group(2).split()
    kept = []
    for word in words:
        if word.lower().strip("'’") in _NOT_NAME:
            break
        kept.append(word)
    if not kept:
        return match.group()
    rest = match.group(2)[len(" ".join(kept)) :] if match.group(2).startswith(" ".join(kept)) else ""
    return match.group(1) + "[name]" + rest


def redact(text: str) -> str:
    # Full-width and other compatibility forms ("＠", "ｎａｍｅ") are read as their plain letters.
    text = unicodedata.normalize("NFKC", text)
    text = _EMAIL.sub("[email]", text)
    text = _SPELLED_EMAIL.sub("[email]", text)
    text = _RECORD.sub("[id]", text)
    text = _ADDRESS.sub("[address]", text)
    text = _ADDRESS_NUMBER.sub("[address]", text)
    text = _INSURANCE.sub(_insurance, text)
    text = _NIK.sub("[id]", text)
    for pattern in _DATES:
        text = pattern.sub("[date]", text)
    text = _INTERNATIONAL.sub("[phone]", text)
    text = _PHONE.sub(_phone, text)
    text = _DIGITS.sub("[number]", text)
    text = _NAME.sub(r"\1\2[name]", text)
    text = _NAMED.sub(_named, text)
    text = _AGE.sub("[age]", text)
    text = _AGED.sub(r"\1\2[age]", text)
    return _AGE_AFTER_NAME.sub(", [age]", text)
