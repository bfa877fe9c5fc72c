"""A unit's subtree in SQL: a LIKE on the unit path's prefix, with LIKE's metacharacters escaped.

Unit codes may hold `_` (domain/directory.py), which LIKE reads as "any one character": unescaped,
the pattern of /county/t_1/ would also take in the sibling /county/t11/. Both engines accept
`ESCAPE '\\'` (SQLite has no default escape character).
"""

from __future__ import annotations


def below(path: str) -> str:
    """The LIKE pattern of a unit path and every path under it, e.g. /county/t\\_1/%."""
    return path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def within(column: str, param: str) -> str:
    """SQL: `column` is the path given as the pattern parameter `param` (made by `below`) or under it."""
    return f"{column} LIKE %({param})s ESCAPE '\\'"
