"""A user's CSV, read strictly before it becomes a span: each problem is one error.

`read` checks what any CSV needs (text, UTF-8, one header, a value per column in every row,
cells of sane size); `check_columns` what a task's data needs (its schema's columns, numbers
where it reads numbers, finite ones, labels it knows). Every error names the file, the row
(as a spreadsheet numbers it: the header is row 1) and the column, and says what to do; the
data never reaches a span, so nothing is lost and the served model stays as it was.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Collection, Sequence
from pathlib import Path

from pipelines.errors import TaskError

MAX_FIELD = 1 << 20  # 1 MiB: no tabular cell is near it; a runaway quote reaches it quickly
SNIFF = 8192  # bytes looked at to tell a binary file from text
BINARY = {  # magic bytes of what users pass for a CSV by mistake
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\x1f\x8b": "gzip-compressed data",
    b"PK\x03\x04": "a zip archive (an .xlsx workbook?)",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an Office document (.xls?)",
    b"SQLite format 3": "an SQLite database",
    b"PAR1": "a Parquet file",
    b"\x80\x02": "a Python pickle",  # protocols 2-5: never loaded, a pickle runs code
    b"\x80\x03": "a Python pickle",
    b"\x80\x04": "a Python pickle",
    b"\x80\x05": "a Python pickle",
}
DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "pipes"}
MISSING = {"", "nan", "NaN", "NA", "N/A", "null", "NULL", "None"}  # read as a missing value
ROW_OFFSET = 2  # the first data row is row 2 (the header is row 1)
TYPO_SHARE = 0.01  # a column of numbers but for at most 1% of its cells has typos, not words
csv.field_size_limit(MAX_FIELD)


@dataclasses.dataclass(frozen=True)
class Table:
    """A CSV read as strings: the header as written and the data rows."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    content: bytes
    """The file's bytes as read (staged as they are, without reading the file again)."""

    def renamed(self, header: list[str]) -> Table:
        """The same table under other column names (the safe ones), in the same order."""
        return dataclasses.replace(self, header=list(header))

    def column(self, name: str) -> list[str]:
        """The cells of one column, in row order."""
        index = self.header.index(name)
        return [row[index] for row in self.rows]

    def where(self, index: int, column: str) -> str:
        """'FILE: row N, column C' of data row `index` (0-based)."""
        return f"{self.path}: row {index + ROW_OFFSET}, column {column!r}"


def read(path: str | Path, flag: str = "--data") -> Table:
    """The CSV at `path` as strings, or the first reason it cannot be one.

    Raises:
        TaskError: the file is missing, empty, binary, not UTF-8, has no or a duplicated
            header, uses another delimiter, a row has the wrong number of values, a cell is
            over `MAX_FIELD`, or there are no data rows.
    """
    src, content, text = text_of(path, flag)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header, rows = None, []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # blank lines carry nothing
            if header is None:
                header = [cell.strip() for cell in row]
                _check_header(src, header)
                continue
            if len(row) != len(header):
                raise TaskError(
                    f"{src}: row {reader.line_num} has {len(row)} values for the "
                    f"{len(header)} columns of the header; fix the row (a comma inside a "
                    'value needs "quotes")'
                )
            rows.append(row)
    except csv.Error as err:
        raise TaskError(
            f"{src}: row {reader.line_num}: {err} (cells may hold at most {MAX_FIELD} "
            'characters: is a "quote" left open?); fix the row'
        ) from None
    if not rows:
        raise TaskError(f"{src}: no data rows below the header; add rows")
    return Table(src, header, rows, content)


def text_of(path: str | Path, flag: str = "--data") -> tuple[Path, bytes, str]:
    """(path, bytes, UTF-8 text) of a file that is text and not empty: read, never executed.

    Raises:
        TaskError: the file is missing, empty, binary (an image, an archive, a pickle...) or
            not UTF-8; the message names the file and what to do.
    """
    src = Path(path).expanduser()
    if not src.is_file():
        raise TaskError(f"{path}: no such file; pass an existing CSV with {flag}")
    content = src.read_bytes()
    if not content.strip():
        raise TaskError(f"{src}: the file is empty; it needs a header row and data rows")
    binary = _binary(content[:SNIFF])
    if binary:
        raise TaskError(
            f"{src}: not a CSV file ({binary}); export the data as comma-separated text"
        )
    return src, content, _decode(src, content)


def _binary(head: bytes) -> str:
    """What a binary file is ('' for text)."""
    for magic, what in BINARY.items():
        if head.startswith(magic):
            return what
    return "binary data (NUL bytes)" if b"\x00" in head else ""


def _decode(src: Path, content: bytes) -> str:
    """The file as text (a UTF-8 byte-order mark is dropped), or where it is not UTF-8."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = content.count(b"\n", 0, err.start) + 1
        start = content.rfind(b"\n", 0, err.start) + 1
        header = next(csv.reader([content.split(b"\n", 1)[0].decode(errors="replace")]))
        index = content[start : err.start].decode(errors="replace").count(",")
        column = f", column {header[index].strip()!r}" if index < len(header) else ""
        raise TaskError(
            f"{src}: row {line}{column}: byte {content[err.start : err.start + 1]!r} is not "
            "UTF-8 text; save the file as UTF-8"
        ) from None


def _check_header(src: Path, header: list[str]) -> None:
    if len(header) == 1:
        for delimiter, name in DELIMITERS.items():
            if delimiter in header[0]:
                raise TaskError(
                    f"{src}: the header is one column {header[0][:60]!r}: the file separates "
                    f"values with {name}; kfx reads comma-separated files, so save it with commas"
                )
    for number, name in enumerate(header, start=1):
        if not name:
            raise TaskError(f"{src}: column {number} of the header has no name; name it")
    seen: dict[str, int] = {}
    for number, name in enumerate(header, start=1):
        if name in seen:
            raise TaskError(
                f"{src}: column {name!r} appears twice in the header (columns {seen[name]} "
                f"and {number}); rename one"
            )
        seen[name] = number


def number(text: str) -> float | None:
    """A cell as a number; None when missing. Raises ValueError when it is not a number."""
    stripped = text.strip()
    if stripped in MISSING:
        return None
    return float(stripped)


def check_numbers(table: Table, columns: Collection[str], why: str) -> None:
    """Every cell of `columns` is a finite number or missing.

    Raises:
        TaskError: the first cell that is text or infinite, with how many more there are.
    """
    for name in columns:
        bad = []
        for index, cell in enumerate(table.column(name)):
            try:
                value = number(cell)
            except ValueError:
                bad.append((index, f"{cell.strip()[:40]!r} is not a number ({why})"))
                continue
            if value is not None and not math.isfinite(value):
                bad.append((index, f"{cell.strip()!r} is not a finite number"))
        if bad:
            index, problem = bad[0]
            more = f" (and {len(bad) - 1} more rows)" if len(bad) > 1 else ""
            raise TaskError(
                f"{table.where(index, name)}: {problem}{more}; fix the cell or leave it empty"
            )


def numeric_columns(table: Table) -> list[str]:
    """Columns a first registration will read as numbers: nearly all their cells are."""
    found = []
    for name in table.header:
        cells = [c for c in table.column(name) if c.strip() not in MISSING]
        numbers = 0
        for cell in cells:
            try:
                number(cell)
                numbers += 1
            except ValueError:
                pass
        if cells and numbers >= (1 - TYPO_SHARE) * len(cells):
            found.append(name)
    return found


@dataclasses.dataclass(frozen=True)
class Expected:
    """What a task's data must hold (from its schema)."""

    task: str
    columns: Sequence[str]
    """Every column the task reads, label included (safe names)."""
    numeric: Collection[str] = ()
    """Columns its schema types as INT or FLOAT."""
    optional: Collection[str] = ()
    """Columns that may be absent (the schema lets them be missing everywhere)."""
    label: str = ""
    classes: Collection[str] | None = None
    """Label values the task knows (None: any)."""


def check_columns(table: Table, safe: Sequence[str], expected: Expected) -> None:
    """The table (with `safe` column names) holds what `expected` says, and nothing more.

    Raises:
        TaskError: a missing or extra column, a cell that is not a (finite) number where the
            task reads numbers, or a label the task does not know.
    """
    missing = [c for c in expected.columns if c not in safe and c not in expected.optional]
    if missing:
        raise TaskError(
            f"{table.path}: missing column(s) {', '.join(missing)} that task {expected.task!r} "
            f"reads; the header is: {', '.join(table.header)}"
        )
    extra = [
        original
        for original, name in zip(table.header, safe, strict=True)
        if name not in expected.columns
    ]
    if extra:
        raise TaskError(
            f"{table.path}: column(s) {', '.join(extra)} are not in task {expected.task!r}'s "
            f"schema ({', '.join(expected.columns)}); drop them, or bring the file as a new "
            "task with --data FILE --label COLUMN --name NEW"
        )
    renamed = table.renamed(safe)
    numeric = [c for c in expected.columns if c in expected.numeric and c in safe]
    check_numbers(renamed, numeric, f"task {expected.task!r} reads numbers here")
    if expected.classes is not None and expected.label in safe:
        known = {str(c) for c in expected.classes}
        for index, cell in enumerate(renamed.column(expected.label)):
            value = _label_text(cell)
            if value is not None and value not in known:
                raise TaskError(
                    f"{renamed.where(index, expected.label)}: class {cell.strip()!r} is not one "
                    f"task {expected.task!r} knows ({', '.join(sorted(known))}); fix the label, "
                    "or bring the data as a new task with --name"
                )


def _label_text(cell: str) -> str | None:
    """A label cell as the model's vocabulary writes it ('3' for '3.0'); None if missing."""
    stripped = cell.strip()
    if stripped in MISSING:
        return None
    try:
        value = float(stripped)
    except ValueError:
        return stripped
    return str(int(value)) if value.is_integer() else stripped


def from_schema(task: str, schema_file: str | Path, label: str, classes=None) -> Expected:
    """What a task with this schema reads; label classes from its domain, else `classes`."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    schema = text_format.Parse(Path(schema_file).read_text(), schema_pb2.Schema())
    domains = {d.name: list(d.value) for d in schema.string_domain}
    optional, numeric = [], []
    for feature in schema.feature:
        presence = feature.presence
        if presence.min_count == 0 and presence.min_fraction == 0:
            optional.append(feature.name)
        if feature.type in (schema_pb2.INT, schema_pb2.FLOAT):
            numeric.append(feature.name)
        if feature.name == label and feature.WhichOneof("domain_info") == "string_domain":
            classes = list(feature.string_domain.value)
        elif feature.name == label and feature.domain in domains:
            classes = domains[feature.domain]
    return Expected(
        task=task,
        columns=[f.name for f in schema.feature],
        numeric=numeric,
        optional=optional,
        label=label,
        classes=classes,
    )
