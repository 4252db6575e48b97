"""Letters to numbers and back: the tokenizer of a character-level language model.

A model computes with numbers, so text must become a list of token ids
before ``nn.GPT`` can read it. Here every letter is one token, and one more
token, the *boundary*, marks where a name starts and ends:

    >>> tokenizer = CharTokenizer()
    >>> tokenizer.encode_name("emma")         # boundary, e, m, m, a, boundary
    [26, 4, 12, 12, 0, 26]
    >>> tokenizer.decode([26, 4, 12, 12, 0, 26])
    '.emma.'

The ids follow karpathy's microgpt: the letters a-z are 0-25 in alphabetical
order and the boundary comes after them, 26, so there are 27 symbols in all.
The boundary is written "." (makemore's choice), so that ``decode`` can show
it and ``encode`` reads it back.

A model trained on names learns both ends from the boundary: after the
boundary it predicts a first letter, and predicting the boundary means the
name is finished (which is how sampling knows when to stop).
"""

from __future__ import annotations

import numbers
import string
from collections.abc import Sequence

__all__ = ["CharTokenizer"]


class CharTokenizer:
    """One token per character of ``letters``, and one boundary token after them.

    ``letters`` are the characters a text may hold (default a-z); ``boundary``
    is the character that stands for the boundary token in text.
    """

    def __init__(self, letters: str = string.ascii_lowercase, boundary: str = ".") -> None:
        if len(set(letters)) != len(letters) or boundary in letters or len(boundary) != 1:
            raise ValueError(
                f"CharTokenizer: letters {letters!r} and boundary {boundary!r} must be distinct single "
                "characters, each listed once"
            )
        self.symbols = letters + boundary  # a token id is an index into this
        self.boundary = boundary
        self.boundary_id = len(letters)
        self._ids = {symbol: i for i, symbol in enumerate(self.symbols)}

    @property
    def vocab_size(self) -> int:
        """How many tokens there are: the letters and the boundary (27 for a-z)."""
        return len(self.symbols)

    def encode(self, text: str) -> list[int]:
        """The token id of every character of ``text``; the boundary character becomes the boundary id."""
        if not isinstance(text, str):
            raise TypeError(f"CharTokenizer.encode: expected text (a str), got {text!r} of type {type(text).__name__}")
        try:
            return [self._ids[character] for character in text]
        except KeyError:
            raise ValueError(self._unknown_character(text)) from None

    def encode_name(self, name: str) -> list[int]:
        """A name as a model trains on it: the boundary, the name's letters, the boundary again."""
        if self.boundary in name:
            raise ValueError(
                f"CharTokenizer.encode_name: {name!r} holds the boundary character {self.boundary!r}; "
                "a name has letters only (the boundaries are added around it)"
            )
        return [self.boundary_id, *self.encode(name), self.boundary_id]

    def decode(self, ids: Sequence[int]) -> str:
        """The text of a list of token ids; the boundary is shown as its character (".")."""
        for position, token in enumerate(ids):
            if not isinstance(token, numbers.Integral) or isinstance(token, bool) or not 0 <= token < len(self.symbols):
                raise ValueError(
                    f"CharTokenizer.decode: token {token!r} at position {position} is not a token id; "
                    f"ids are whole numbers from 0 to {len(self.symbols) - 1}"
                )
        return "".join(self.symbols[token] for token in ids)

    def _unknown_character(self, text: str) -> str:
        position, character = next((i, c) for i, c in enumerate(text) if c not in self._ids)
        hint = "; lowercase the text first (text.lower())" if character.lower() in self._ids else ""
        return (
            f"CharTokenizer.encode: {character!r} at position {position} of {text!r} is not in the "
            f"vocabulary ({self._describe_vocabulary()}){hint}"
        )

    def _describe_vocabulary(self) -> str:
        letters = self.symbols[:-1]
        shown = f"{letters[0]}-{letters[-1]}" if letters == string.ascii_lowercase else repr(letters)
        return f"the letters {shown} and the boundary {self.boundary!r}"

    def __repr__(self) -> str:
        return f"CharTokenizer({self.vocab_size} symbols: {self._describe_vocabulary()} = {self.boundary_id})"
