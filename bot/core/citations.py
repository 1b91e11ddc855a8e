"""Citation formatting shared by answers and quiz explanations."""

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
