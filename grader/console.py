"""Write what the console can encode: a GBK (cp936) terminal, or a redirect to one, must not lose a report.

Most diagnoses hold −, ², Σ, δ or ·; a console whose encoding lacks one of them would end the report in
UnicodeEncodeError. Every character the console cannot encode is written as its nearest ASCII
(− as -, ² as ^2, δ as d), else as ?; a console that can encode it (UTF-8, and GBK for most) gets it as it is.
"""

from __future__ import annotations

import codecs
import sys
from typing import TextIO

HANDLER = "grader-ascii"
ASCII = {
    "\u2212": "-", "\u2013": "-", "\u2014": "--", "\u00b2": "^2", "\u00b3": "^3", "\u00b9": "^1",
    "\u03a3": "sum", "\u2211": "sum", "\u03b4": "d", "\u0394": "D", "\u2202": "d", "\u03b7": "eta",
    "\u00b7": "*", "\u22c5": "*", "\u00d7": "x", "\u2026": "...", "\u2192": "->", "\u2190": "<-",
    "\u00bd": "1/2", "\u00bc": "1/4", "\u2248": "~", "\u2264": "<=", "\u2265": ">=", "\u2260": "!=",
    "\u25b8": ">", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ",
}


def _ascii(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start:error.end]
    return "".join(ASCII.get(ch, "?") for ch in text), error.end


codecs.register_error(HANDLER, _ascii)


def tolerant(stream: TextIO) -> None:
    """Let the stream write what its encoding cannot hold as ASCII instead of raising."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors=HANDLER)
        except (ValueError, OSError):  # a closed or detached stream: nothing to do
            pass


def tolerant_console() -> None:
    for stream in (sys.stdout, sys.stderr):
        tolerant(stream)


def encodable(text: str, stream: TextIO) -> bool:
    """Whether the stream's own encoding holds every character of `text`."""
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except UnicodeEncodeError:
        return False
    except LookupError:
        return True
    return True
