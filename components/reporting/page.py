"""HTML building blocks of the report: one self-contained page (inline CSS, PNGs as data URIs).

Nothing on the page points outside it: no script, no stylesheet, font or image URL, so it
renders the same from a laptop's disk, a bucket or the Kubeflow Pipelines UI's iframe.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2933;
background:#f5f7fa}
header{background:#243b53;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#d9e2ec}
main{padding:8px 28px 40px;max-width:1200px}
section{background:#fff;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.12);margin:18px 0;
padding:14px 20px}
h2{font-size:17px;margin:4px 0 10px;color:#243b53}
h3{font-size:14px;margin:14px 0 6px;color:#334e68}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}
th,td{border-bottom:1px solid #e4e7eb;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f0f4f8;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:3px 10px;border-radius:12px;font-weight:700;font-size:13px}
.pass{background:#e3f9e5;color:#05400a}.fail{background:#ffe3e3;color:#610404}
.none{background:#e4e7eb;color:#323f4b}
.note{color:#616e7c;font-size:13px}
img{max-width:100%;border:1px solid #e4e7eb;border-radius:4px;margin:6px 0}
code{background:#f0f4f8;padding:1px 4px;border-radius:3px;font-size:12px}
ul.parts li{margin:4px 0}
"""


def esc(value) -> str:
    """`value` as HTML-escaped text."""
    return html.escape(str(value), quote=True)


def number(value, digits: int = 4) -> str:
    """A float as text ('-' for None)."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e4 else f"{value:.6g}"
    return str(value)


def badge(text: str, kind: str, element_id: str | None = None) -> str:
    """A coloured label; kind 'pass', 'fail' or 'none'."""
    attr = f' id="{esc(element_id)}"' if element_id else ""
    return f'<span class="badge {kind}"{attr}>{esc(text)}</span>'


def table(headers: Sequence[str], rows: Iterable[Sequence], numeric: Sequence[int] = ()) -> str:
    """An HTML table; cells are escaped, columns in `numeric` right-aligned."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{esc(c)}</td>' if i in numeric else f"<td>{esc(c)}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def image(png: bytes, alt: str) -> str:
    """An inline PNG."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def note(text: str) -> str:
    """A grey remark."""
    return f'<p class="note">{esc(text)}</p>'


def section(element_id: str, title: str, body: str) -> str:
    """One card of the page."""
    return f'<section id="{esc(element_id)}"><h2>{esc(title)}</h2>{body}</section>'


def document(title: str, subtitle: str, sections: Sequence[str]) -> str:
    """The whole page."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body><header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>"
        f"<main>{''.join(sections)}</main></body></html>\n"
    )
