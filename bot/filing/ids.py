"""Several ids of one kind in one message: each once, in the order the user wrote them."""
from __future__ import annotations

from collections.abc import Callable, Iterable


def distinct_ids(values: Iterable[object], canonical: Callable[[str], str]) -> list[str]:
    """The non-empty ids of `values` in canonical form, first mention first, without repeats."""
    seen: list[str] = []
    for value in values:
        text = canonical(str(value or "").strip())
        if text and text not in seen:
            seen.append(text)
    return seen
