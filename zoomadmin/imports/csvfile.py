"""Reading an uploaded CSV file as a stream of records: encoding, delimiter, physical line numbers.

This is the first step of a CSV bulk change and knows nothing about users: it turns a binary file
(Django's `UploadedFile`, an open file) into a header and a lazy iterator of `Record`s, without
reading the file into memory. Only the first chunk is looked at to choose the encoding and the
delimiter; after that the bytes go through an incremental decoder into `csv.reader` a line at a time.

What a spreadsheet user can send and how it is read (docs/bulk-changes.md has the admin's version):

- UTF-8 with or without a BOM, UTF-16 (LE/BE, with a BOM: Excel's "Unicode text"), UTF-32 with a
  BOM, and Windows-1252 (a file whose first chunk is not valid UTF-8). A UTF-8 file with a stray
  Windows-1252 byte further down (a file pasted together from two sources) still reads: the byte is
  taken as its Windows-1252 character instead of failing on line 50,000.
- Comma, semicolon or tab delimiters, chosen by counting them outside quotes on the header line,
  or given by the `sep=;` line Excel writes (and hides) at the top.
- Quoted fields with embedded newlines and doubled quotes; blank lines and lines of only
  delimiters are skipped; cells are returned as written (callers trim).
- Line numbers: the header is line 1 (a `sep=` line above it is not counted, as Excel hides it),
  and a record's line number is the physical line of the file where it starts, so blank lines and
  newlines inside quoted cells count.

Anything that cannot be read as a whole is refused with `CsvRefused`, whose `message` is a sentence
for the admin: empty, only a header, binary (an .xlsx or a picture renamed .csv), too big, too long.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Final

# Zoom's portal stops at 9,999 rows (reference §9); we go further, but not unboundedly.
DEFAULT_MAX_ROWS: Final = 100_000
# Comfortably above 100,000 rows of every column we read (about 200 bytes a row).
DEFAULT_MAX_BYTES: Final = 50 * 1024 * 1024
# Bytes read at a time; the first chunk is also all that encoding and delimiter detection look at.
CHUNK_SIZE: Final = 64 * 1024
DELIMITERS: Final = (",", ";", "\t")
DELIMITER_NAMES: Final = {",": "comma", ";": "semicolon", "\t": "tab"}

# Share of control characters in the first chunk above which a file is not text.
_CONTROL_SHARE = 0.05
_SEP_LINE_RE = re.compile(r'^\s*"?sep=(?P<sep>[^"\r\n]?)"?\s*$', re.IGNORECASE)
# Control characters a text file has no business containing (tab, newlines and form feed are fine).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# Byte signatures of files people rename to .csv, and what to tell them.
_SIGNATURES: Final = (
    (
        b"PK\x03\x04",
        "This looks like an Excel workbook (.xlsx); save it as CSV (Save As, then CSV UTF-8) and upload that.",
    ),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "This looks like an Excel 97-2003 workbook (.xls); save it as CSV (Save As, then CSV UTF-8) and upload that.",
    ),
    (b"\x89PNG\r\n\x1a\n", "This file is a PNG image, not a CSV file."),
    (b"\xff\xd8\xff", "This file is a JPEG image, not a CSV file."),
    (b"GIF8", "This file is a GIF image, not a CSV file."),
    (b"%PDF-", "This file is a PDF document, not a CSV file."),
)
_BOMS: Final = (
    # UTF-32 first: its little-endian BOM starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 BE"),
)
_FALLBACK_ERRORS: Final = "zoomadmin-cp1252"


class CsvRefused(Exception):
    """The file cannot be used as a whole; `message` says why, as a sentence for the admin."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Decode the bytes a codec refused as Windows-1252 (its five unassigned bytes as Latin-1).

    Registered as a codec error handler so that a UTF-8 file with a few Windows-1252 bytes far
    below the first chunk still reads, and so that those five bytes never stop a Windows-1252 file.
    """
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    text = "".join(_cp1252_char(byte) for byte in exc.object[exc.start : exc.end])
    return text, exc.end


def _cp1252_char(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return bytes([byte]).decode("latin-1")


codecs.register_error(_FALLBACK_ERRORS, _cp1252_fallback)


def size_check(size: int | None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Refuse a file of `size` bytes over `max_bytes` (callers pass the upload's size and the setting)."""
    if size is not None and size > max_bytes:
        raise CsvRefused(
            f"The file is {_megabytes(size)}, over the limit of {_megabytes(max_bytes)}; "
            "split it into smaller files and upload them one by one."
        )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


@dataclass(frozen=True, slots=True)
class Record:
    """One record of the file: the physical line it starts on (the header is line 1) and its cells as written."""

    line: int
    cells: list[str]


@dataclass(frozen=True, slots=True)
class Detected:
    """How the file is read: the Python codec, its name for people, and the delimiter."""

    codec: str
    encoding: str
    delimiter: str


class _Replay(io.RawIOBase):
    """A raw binary stream that gives back `head` first, then the rest of `source` (never all at once)."""

    def __init__(self, head: bytes, source: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer)
        if self._head:
            size = min(len(view), len(self._head))
            view[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._source.read(len(view))
        view[: len(data)] = data
        return len(data)


class CsvStream:
    """An opened CSV file: its encoding and delimiter, its header record, and its other records lazily.

    Build one with `csv_open`. Iterating yields the data records (blank lines left out) and raises
    `CsvRefused` when more than `max_rows` of them follow the header; it can be iterated once.
    """

    def __init__(self, *, detected: Detected, header: Record, first: Record, rest: Iterator[Record], max_rows: int):
        self.detected = detected
        self.header = header
        self._first: Record | None = first
        self._rest = rest
        self._max_rows = max_rows

    @property
    def encoding(self) -> str:
        """The encoding in words ("UTF-8", "UTF-16 LE", "Windows-1252", ...)."""
        return self.detected.encoding

    @property
    def delimiter(self) -> str:
        return self.detected.delimiter

    def __iter__(self) -> Iterator[Record]:
        first, self._first = self._first, None
        if first is None:
            return
        yield first
        count = 1
        for record in self._rest:
            count += 1
            if count > self._max_rows:
                raise CsvRefused(
                    f"The file has more than {self._max_rows:,} rows of users; "
                    f"split it into files of at most {self._max_rows:,} rows."
                )
            yield record


def csv_open(binary: IO[bytes], *, max_rows: int = DEFAULT_MAX_ROWS) -> CsvStream:
    """Open `binary` (positioned at its start) as a CSV stream, or refuse it with `CsvRefused`.

    Reads the first chunk to choose the encoding and delimiter, then the header and the first data
    record (so an empty or header-only file is refused here, not halfway through a plan). The rest
    of the file is read while the returned stream is iterated; `binary` must stay open until then.
    """
    head = binary.read(CHUNK_SIZE)
    if not head.strip(b" \t\r\n\x00" + codecs.BOM_UTF8 + codecs.BOM_UTF16_LE + codecs.BOM_UTF16_BE):
        raise CsvRefused("The file is empty.")
    codec, encoding = _encoding_detect(head)
    text_head = _decode_head(head, codec, encoding)
    _text_check(text_head)
    delimiter, skip_sep_line = _delimiter_detect(text_head)
    detected = Detected(codec=codec, encoding=encoding, delimiter=delimiter)

    text = io.TextIOWrapper(
        io.BufferedReader(_Replay(head, binary), CHUNK_SIZE), encoding=codec, errors=_errors(codec), newline=""
    )
    records = _records(text, delimiter, skip_sep_line)
    try:
        header = next(records, None)
        if header is None:
            raise CsvRefused("The file is empty.")
        first = next(records, None)
    except UnicodeDecodeError as exc:
        raise CsvRefused(f"The file could not be read as {encoding} text; save it again as CSV UTF-8.") from exc
    if first is None:
        raise CsvRefused("The file has a header line but no rows of users below it.")
    return CsvStream(
        detected=detected, header=header, first=first, rest=_decode_guard(records, encoding), max_rows=max_rows
    )


def _decode_guard(records: Iterator[Record], encoding: str) -> Iterator[Record]:
    try:
        yield from records
    except UnicodeDecodeError as exc:
        # Only UTF-16/32 decode strictly: an odd byte count or a broken surrogate further down.
        raise CsvRefused(f"Part of the file could not be read as {encoding} text; save it again as CSV UTF-8.") from exc


def _encoding_detect(head: bytes) -> tuple[str, str]:
    """(codec, name for people) from the BOM, the NUL pattern of UTF-16 without one, or UTF-8 validity."""
    for signature, message in _SIGNATURES:
        if head.startswith(signature):
            raise CsvRefused(message)
    for bom, codec, name in _BOMS:
        if head.startswith(bom):
            return codec, name
    if b"\x00" in head:
        # UTF-16 without a BOM puts a NUL beside every ASCII character; anything else with NULs is binary.
        sample = head[:4096]
        even, odd = sample[0::2], sample[1::2]
        if odd and odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
            return "utf-16-le", "UTF-16 LE"
        if even and even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "utf-16-be", "UTF-16 BE"
        raise CsvRefused("This file contains binary data, not text; upload the users as a CSV file.")
    try:
        # The chunk may end inside a multi-byte character: decode it as a stream would.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252", "Windows-1252"
    return "utf-8", "UTF-8"


def _errors(codec: str) -> str:
    # UTF-16/32 stay strict: a stray byte there means a broken file, not a Windows-1252 character.
    return _FALLBACK_ERRORS if codec in ("utf-8", "utf-8-sig", "cp1252") else "strict"


def _decode_head(head: bytes, codec: str, encoding: str) -> str:
    decoder = codecs.getincrementaldecoder(codec)(errors=_errors(codec))
    try:
        return decoder.decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise CsvRefused(f"The file could not be read as {encoding} text; save it again as CSV UTF-8.") from exc


def _text_check(text: str) -> None:
    """Refuse a first chunk that is mostly not text (a binary file with no signature we know)."""
    if "\x00" in text:
        raise CsvRefused("This file contains binary data, not text; upload the users as a CSV file.")
    if text and len(_CONTROL_RE.findall(text)) > _CONTROL_SHARE * len(text):
        raise CsvRefused("This file does not look like text; upload the users as a CSV file.")


def _delimiter_detect(text: str) -> tuple[str, bool]:
    """(delimiter, whether the first line is Excel's `sep=` line), from the first chunk's text."""
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    sep = _SEP_LINE_RE.match(first)
    if sep:
        given = sep.group("sep")
        if given in DELIMITERS:
            return given, True
        raise CsvRefused(f"The file's first line asks for the delimiter {given!r}; use a comma, a semicolon or a tab.")
    # Count on the header line; a one-column header says nothing, so look at the lines below it too.
    for line in lines[lines.index(first) :] if first else []:
        counts = {delimiter: _count_outside_quotes(line, delimiter) for delimiter in DELIMITERS}
        best = max(DELIMITERS, key=lambda d: counts[d])
        if counts[best]:
            return best, False
    return ",", False


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def _records(text: io.TextIOWrapper, delimiter: str, skip_sep_line: bool) -> Iterator[Record]:
    """Records with their starting line (header = 1); blank records (no cell with a character) left out."""
    lines: Iterator[str] = iter(text)
    if skip_sep_line:
        # Excel hides the `sep=` line, so the header still counts as line 1.
        for line in lines:
            if line.strip():
                break
    # Blank lines above the header (or lines of only delimiters) are skipped; the header stays line 1.
    first_line = ""
    for line in lines:
        if line.strip(" \t\r\n" + delimiter):
            first_line = line
            break
    if not first_line:
        return
    reader = csv.reader(_chain(first_line, lines), delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
    read = 0
    while True:
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            # In practice a cell over csv's field size limit (128 KiB): a quote that is never closed.
            raise CsvRefused(
                f"The file cannot be read from line {read + 1} on: a cell there is far too long, "
                "probably because a double quote is never closed."
            ) from exc
        if cells is None:
            return
        start = read + 1
        read = reader.line_num
        if any(cell.strip() for cell in cells):
            yield Record(line=start, cells=cells)


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest
