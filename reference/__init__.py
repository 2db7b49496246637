"""The right answers: hand-derived float64 numpy models of every assignment.

The grader's parent process imports only this package (never torch) to compute
expected values; `reference.autograd` re-derives the same numbers with torch for
the tests' cross-check.
"""

from pathlib import Path


def mistake_texts(lang: str) -> Path:
    """The known mistakes' texts in `lang`, beside their catalogue (grader/i18n.py loads them with its own)."""
    return Path(__file__).resolve().with_name(f"mistakes.{lang}.toml")
