"""Citation formatting shared by answers and quiz explanations.

Two kinds of citation exist because the review has two kinds of statement: those it
backs with numbered references, and its own synthesis (methods, tables, gaps,
conclusion) that prints none. The second is cited as the review itself, never with
numbers borrowed from a neighbouring sentence.
"""

from __future__ import annotations

from collections.abc import Iterable


def cite(refs: Iterable[int]) -> str:
    """[10-12,14] — runs of three or more consecutive numbers collapse to a range."""
    nums = sorted(set(refs))
    if not nums:
        return ""
    parts, start, prev = [], nums[0], nums[0]
    for n in [*nums[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        if prev - start >= 2:
            parts.append(f"{start}-{prev}")
        else:
            parts.extend(str(n) for n in range(start, prev + 1))
        if n is not None:
            start = prev = n
    return "[" + ",".join(parts) + "]"


def cite_review(sections: Iterable[str] = ()) -> str:
    """[review, Discussion] — a statement the review makes without reference numbers."""
    where = ", ".join(dict.fromkeys(sections))
    return f"[review, {where}]" if where else "[review]"
