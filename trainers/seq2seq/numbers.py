"""Numbers written out in English words, the way the source side of the task reads them."""

from __future__ import annotations

ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
LARGEST = 999_999  # "nine hundred ninety nine thousand nine hundred ninety nine"


def _below_thousand(n: int) -> list[str]:
    """Words of 1..999 (0 has none here: 'two thousand' has no 'zero' after it)."""
    words = []
    if n >= 100:
        words += [ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(TENS[n // 10])
        n %= 10
    if n:
        words.append(ONES[n])
    return words


def spell(n: int) -> str:
    """`n` in words: 'zero', 'forty two', 'one hundred five thousand twenty'.

    Raises:
        ValueError: `n` is negative or above `LARGEST`.
    """
    if not 0 <= n <= LARGEST:
        raise ValueError(f"{n}: only 0..{LARGEST} can be spelled")
    if n == 0:
        return "zero"
    thousands, rest = divmod(n, 1000)
    words = (_below_thousand(thousands) + ["thousand"]) if thousands else []
    return " ".join(words + _below_thousand(rest))
