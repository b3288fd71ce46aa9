"""What every page pgperf writes shares: its Content-Security-Policy, escaping, tables.

Every value that reaches a page goes through :func:`esc` (HTML escaping, quotes too: values
also land in attributes); the CSP forbids any script and any network fetch, so a page
renders the same offline, from a CI artifact or a mail.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def esc(value: object) -> str:
    """HTML-escape any value."""
    return html.escape(str(value), quote=True)


def html_table(header: Sequence[str], rows: Iterable[str], *, css: str = "") -> str:
    """A table: escaped header cells, rows given as ``<tr>`` markup."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    cls = f' class="{esc(css)}"' if css else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
