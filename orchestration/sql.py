"""Quoting for SQL text built in Python: the one copy the project's modules use."""

from __future__ import annotations

from collections.abc import Iterable


def quote_ident(name: str) -> str:
    """An identifier in double quotes, inner quotes doubled."""
    return '"' + str(name).replace('"', '""') + '"'


def quote_literal(value: object) -> str:
    """A string literal in single quotes, inner quotes doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_list(values: Iterable[str]) -> str:
    """A DuckDB list literal of strings: ['a', 'b']."""
    return "[" + ", ".join(quote_literal(v) for v in values) + "]"


def sql_tuple(values: Iterable[str]) -> str:
    """A parenthesised list of string literals, for IN: ('a', 'b')."""
    return "(" + ", ".join(quote_literal(v) for v in values) + ")"
