"""Every message a student or instructor reads, in English or simplified Chinese.

The texts are data, `locales/<lang>.toml` (flat or dotted keys, str.format templates),
loaded once, with the known mistakes' texts that live beside their catalogue
(`reference/mistakes.<lang>.toml`: `mistakes.<id>.name`, `.explanation`, `.fix`).
The current language lives in a ContextVar: `with speaking("zh"):` sets it for a block
(and only for the thread that runs it: a worker thread starts in English and must set
its own), and `t(key, **values)` formats the current language's template.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any, Literal, cast

from reference import mistake_texts

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")
LOCALES = Path(__file__).resolve().with_name("locales")

_current: ContextVar[Lang] = ContextVar("grader_lang", default="en")


def current() -> Lang:
    """The language messages are written in right now."""
    return _current.get()


@contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Write every message of the block in `lang` (one of LANGS)."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGS)}")
    token = _current.set(cast(Lang, lang))
    try:
        yield
    finally:
        _current.reset(token)


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        elif isinstance(value, str):
            out[name] = value
        else:
            raise TypeError(f"{name}: a message must be a string, not {type(value).__name__}")
    return out


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Every template of one language by its dotted key."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGS)}")
    out: dict[str, str] = {}
    for path in (LOCALES / f"{lang}.toml", mistake_texts(lang)):
        with path.open("rb") as f:
            table = _flatten(tomllib.load(f))
        if clash := sorted(out.keys() & table.keys()):
            raise ValueError(f"{path.name} repeats {', '.join(clash)}")
        out.update(table)
    return out


def t(key: str, **values: Any) -> str:
    """The current language's template for `key`, formatted with `values` (English if it lacks the key).
    With `count=1`, the template `<key>_one` where the catalogue has one ("1 update", not "1 updates")."""
    templates = catalogue(current())
    if values.get("count") == 1 and f"{key}_one" in catalogue("en"):
        key = f"{key}_one"
    template = templates.get(key)
    if template is None:
        template = catalogue("en")[key]  # a KeyError here is a grader bug; tests/test_i18n.py prevents it
    return template.format(**values)


def default_language() -> str:
    """The language of the user's locale: LC_ALL, then LC_MESSAGES, then LANG; Chinese or else English."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"
