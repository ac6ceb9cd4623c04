"""The one way phrases are compared: people type "Não", "nao" and "NÃO" for the same word."""

from __future__ import annotations

import unicodedata


def normalize(text: str) -> str:
    """Lower-case, accent-free, single-spaced text, so that configured phrases written without
    accents match whatever the customer or agent typed."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    # Lower-cased again: compatibility decomposition can expose capitals (e.g. "㎒" -> "MHz").
    return " ".join(bare.lower().split())
