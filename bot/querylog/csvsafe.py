"""CSV that a spreadsheet opens as text: a cell a person wrote that starts with = + - @
(or a tab or carriage return) would run as a formula in Excel or LibreOffice, so it is
prefixed with a single quote, as OWASP's CSV-injection guidance says. Numbers are left as
they are; only text can carry a formula."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose every text cell is neutralised."""

    def __init__(self, fh: IO[str]) -> None:
        self._writer = csv.writer(fh)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(v) for v in row])
