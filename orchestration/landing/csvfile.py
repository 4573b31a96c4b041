"""What a CSV file looks like before DuckDB reads it: its hash, its header, and where each record starts.

DuckDB's CSV reader is fast and keeps the lines it cannot read, but it does not say on which
line a *good* row started. Landing promises one exact definition for every row it lands or
quarantines: ``_row_number`` is the **physical line of the file on which the record starts**
(1-based, the header is line 1 when nothing precedes it; blank lines and the line breaks
inside quoted fields are counted, as in any text editor). This module computes that map in one
streaming pass over the bytes, at numpy speed, keeping only the places where it departs from
"record *k* is on line *k* + 1" (blank lines, multi-line quoted fields): a few integers for a
normal file of any size.

The scan follows DuckDB's own rules (RFC 4180 quoting, a doubled quote inside a quoted field,
blank lines skipped, a quote inside an unquoted field taken literally, a character after a
closing quote read on as unquoted text, the record then rejected). A chunk where a quote sits in the
middle of a field is scanned character by character; every other chunk by quote parity.
The loader checks the scan's record count against DuckDB's and refuses to guess if they differ.

Files in an encoding DuckDB does not read natively (cp1252, utf-16, ...) are transcoded to a
UTF-8 temporary file while streaming (1 MiB at a time), never read whole into memory.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CHUNK_BYTES = 8 << 20
# Encodings DuckDB's CSV reader reads itself (as it names them); the others are transcoded first.
NATIVE_ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
}
BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Bytes that cp1252 leaves undefined: kept as the C1 control characters of the same value
# (what browsers do, WHATWG "windows-1252"), so nothing is lost or replaced.
_CP1252_UNDEFINED = {0x81, 0x8D, 0x8F, 0x90, 0x9D}


def _cp1252_keep_c1(error: UnicodeDecodeError):
    bad = error.object[error.start : error.end]
    if all(b in _CP1252_UNDEFINED for b in bad):
        return "".join(chr(b) for b in bad), error.end
    raise error


codecs.register_error("psw_keep_c1", _cp1252_keep_c1)


# Python's csv module refuses fields over 128 KiB; a header or sampled record may be as long as
# the CSV reader's line limit (loader.MAX_LINE_BYTES), so the sniffing helpers take any length.
csv.field_size_limit(max(csv.field_size_limit(), (1 << 31) - 1))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sniff_bom(path: Path) -> str | None:
    """The encoding a byte-order mark at the start of the file announces, if any."""
    with Path(path).open("rb") as fh:
        head = fh.read(4)
    return next((enc for bom, enc in BOMS if head.startswith(bom)), None)


def utf16_without_bom(path: Path) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the file's start looks like UTF-16 text without a
    byte-order mark (most characters ASCII: every other byte 0), else None."""
    with Path(path).open("rb") as fh:
        head = fh.read(4096)
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    zeros_even, zeros_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if zeros_odd >= 0.4 and zeros_even < 0.1:
        return "utf-16-le"
    if zeros_even >= 0.4 and zeros_odd < 0.1:
        return "utf-16-be"
    return None


def needs_transcoding(encoding: str) -> bool:
    return encoding.lower() not in NATIVE_ENCODINGS


def transcode_to_utf8(path: Path, encoding: str, out: Path) -> None:
    """Stream ``path`` from ``encoding`` into a UTF-8 file ``out`` (1 MiB at a time).

    cp1252's five undefined bytes are kept as C1 control characters; any other byte that is
    not in the encoding raises UnicodeDecodeError with its offset (the loader refuses the file).
    """
    codec = codecs.lookup(encoding)
    errors = "psw_keep_c1" if codec.name == "cp1252" else "strict"
    decoder = codec.incrementaldecoder(errors=errors)
    offset = 0
    with Path(path).open("rb") as src, Path(out).open("wb") as dst:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise UnicodeDecodeError(
                    exc.encoding, exc.object, exc.start, exc.end, f"{exc.reason} at byte {offset + exc.start}"
                ) from None
            dst.write(text.encode("utf-8"))
            offset += len(chunk)
        dst.write(decoder.decode(b"", final=True).encode("utf-8"))


def normalise_line_endings(path: Path, out: Path) -> None:
    """Stream ``path`` into ``out`` with every CR LF turned into LF (for files that mix the two)."""
    with Path(path).open("rb") as src, Path(out).open("wb") as dst:
        carry = b""
        for chunk in iter(lambda: src.read(1 << 20), b""):
            chunk = carry + chunk
            carry = b"\r" if chunk.endswith(b"\r") else b""
            dst.write((chunk[:-1] if carry else chunk).replace(b"\r\n", b"\n"))
        dst.write(carry)


@dataclass
class Layout:
    """Where the header and each data record of a file start (1-based physical lines)."""

    header_line: int = 0  # 0: the file has no header (empty, or only blank lines)
    header_bytes: bytes = b""
    records: int = 0  # data records after the header, as DuckDB will count them
    blank_lines: int = 0
    blank_line_sample: list[int] = field(default_factory=list)
    multiline_records: int = 0
    crlf_lines: int = 0  # lines ending CR LF; DuckDB cannot read a file that mixes them with LF
    lf_lines: int = 0
    # Step functions over the record index i (1 = first data record), stored where they change:
    # physical line = i + physical_offset(i); DuckDB's reject line = i + logical_offset(i).
    physical_breaks: list[tuple[int, int]] = field(default_factory=list)
    logical_breaks: list[tuple[int, int]] = field(default_factory=list)
    exact_scan: bool = False  # True when the character-by-character scan was used throughout
    longest_line_bytes: int = 0  # the longest physical line, line break excluded
    longest_line: int = 0  # its physical line number

    def physical_line(self, index: int) -> int:
        """Physical line of data record ``index`` (a slow reference, for tests)."""
        return index + _step(self.physical_breaks, index)

    def logical_line(self, index: int) -> int:
        return index + _step(self.logical_breaks, index)


def _step(breaks: list[tuple[int, int]], index: int) -> int:
    value = 0
    for start, offset in breaks:
        if start > index:
            break
        value = offset
    return value


class _Scanner:
    def __init__(self, delimiter: str, quote: str, force_exact: bool):
        self.delim = delimiter.encode("utf-8")[0]
        self.quote = quote.encode("utf-8")[0] if quote else None
        self.force_exact = force_exact
        self.layout = Layout(exact_scan=force_exact)
        self.in_quote = False  # at the start of the next line
        self.lines_before = 0  # physical lines before the current chunk
        self.logical_before = 0  # line breaks outside quoted fields before the current chunk
        self.index = -1  # index of the last record started (-1: none yet; 0: the header)
        self.phys_off = None
        self.log_off = None

    # -- bookkeeping shared by both scans ---------------------------------------------
    def _records(self, phys_lines: np.ndarray, logical_lines: np.ndarray) -> None:
        """Register records starting on the given physical / logical lines (in order)."""
        n = len(phys_lines)
        if not n:
            return
        first = self.index + 1
        self.index += n
        if first == 0:  # the header
            self.layout.header_line = int(phys_lines[0])
            phys_lines, logical_lines, first = phys_lines[1:], logical_lines[1:], 1
            if not len(phys_lines):
                return
        idx = np.arange(first, first + len(phys_lines), dtype=np.int64)
        self._breaks(self.layout.physical_breaks, idx, phys_lines - idx, "phys_off")
        self._breaks(self.layout.logical_breaks, idx, logical_lines - idx, "log_off")

    def _breaks(self, out: list, idx: np.ndarray, offsets: np.ndarray, attr: str) -> None:
        previous = getattr(self, attr)
        change = np.flatnonzero(np.diff(offsets)) + 1
        starts = np.concatenate(([0], change)) if previous != offsets[0] else change
        out.extend((int(idx[s]), int(offsets[s])) for s in starts)
        setattr(self, attr, int(offsets[-1]))

    def _blank(self, phys_lines) -> None:
        self.layout.blank_lines += len(phys_lines)
        room = 20 - len(self.layout.blank_line_sample)
        if room > 0:
            self.layout.blank_line_sample.extend(int(x) for x in phys_lines[:room])

    # -- one chunk that ends with a line break ----------------------------------------------
    def chunk(self, buf: bytes) -> None:
        arr = np.frombuffer(buf, dtype=np.uint8)
        nl = np.flatnonzero(arr == 10)
        if len(nl):
            lengths = np.diff(nl, prepend=-1) - 1
            k = int(lengths.argmax())
            if lengths[k] > self.layout.longest_line_bytes:
                self.layout.longest_line_bytes = int(lengths[k])
                self.layout.longest_line = self.lines_before + k + 1
        if self.layout.header_line == 0 and self.index < 0:
            self._keep_header(buf, nl)
        if self.force_exact or (self.quote is not None and self._has_literal_quote(arr)):
            self._exact(buf)
        else:
            self._by_parity(arr, nl)
        self.lines_before += len(nl)

    def _keep_header(self, buf: bytes, nl: np.ndarray) -> None:
        start = 0
        for end in nl:
            line = buf[start:end].rstrip(b"\r")
            if line:
                self.layout.header_bytes = line
                return
            start = end + 1

    def _has_literal_quote(self, arr: np.ndarray) -> bool:
        """True when a quote is not where RFC 4180 puts one: parity cannot be trusted then."""
        qi = np.flatnonzero(arr == self.quote)
        if not len(qi):
            return False
        before = np.where(qi > 0, arr[np.maximum(qi - 1, 0)], 10)
        after = arr[qi + 1]  # the chunk ends with a line break, so a quote is never last
        opening = (np.arange(len(qi)) + (1 if self.in_quote else 0)) % 2 == 0
        bad_open = opening & ~np.isin(before, [self.delim, 10, self.quote])
        bad_close = ~opening & ~np.isin(after, [self.delim, 10, 13, self.quote])
        return bool(np.any(bad_open | bad_close))

    def _by_parity(self, arr: np.ndarray, nl: np.ndarray) -> None:
        starts = np.concatenate(([0], nl[:-1] + 1))
        if self.quote is not None:
            qi = np.flatnonzero(arr == self.quote)
            quotes_before_nl = np.searchsorted(qi, nl) + (1 if self.in_quote else 0)
            inside = (quotes_before_nl % 2) == 1  # the line break ending each line is inside quotes
        else:
            inside = np.zeros(len(nl), dtype=bool)
        starts_outside = np.concatenate(([not self.in_quote], ~inside[:-1]))
        # line endings between records (a quoted field may hold either kind without harm)
        crlf = (arr[np.maximum(nl - 1, 0)] == 13) & (nl > 0) & ~inside
        self.layout.crlf_lines += int(crlf.sum())
        self.layout.lf_lines += int((~inside).sum() - crlf.sum())
        length = nl - starts
        blank = starts_outside & ((length == 0) | ((length == 1) & (arr[starts] == 13)))
        is_record = starts_outside & ~blank
        # line breaks outside quoted fields before each line (DuckDB's line count)
        outside_before = np.concatenate(([0], np.cumsum(~inside)[:-1]))
        phys = self.lines_before + np.arange(1, len(nl) + 1)
        self._blank(phys[blank])
        self._records(phys[is_record], self.logical_before + 1 + outside_before[is_record])
        self.layout.multiline_records += int((is_record & inside).sum())
        self.logical_before += int((~inside).sum())
        self.in_quote = bool(inside[-1]) if len(inside) else self.in_quote

    def _exact(self, buf: bytes) -> None:
        """Character by character, DuckDB's rules (slow; only for chunks that need it)."""
        q, d = self.quote, self.delim
        phys, logical, blanks = [], [], []
        line_no = self.lines_before
        logical_no = self.logical_before
        for line in buf.split(b"\n")[:-1]:
            line_no += 1
            if not self.in_quote:
                if line in (b"", b"\r"):
                    blanks.append(line_no)
                    logical_no += 1
                    if line:
                        self.layout.crlf_lines += 1
                    else:
                        self.layout.lf_lines += 1
                    continue
                phys.append(line_no)
                logical.append(logical_no + 1)
                state = "field_start"
            else:
                state = "quoted"
            if q is not None and (q in line or state == "quoted"):
                for byte in line:
                    if state == "field_start":
                        state = "quoted" if byte == q else ("field_start" if byte == d else "unquoted")
                    elif state == "unquoted":
                        if byte == d:
                            state = "field_start"
                    elif state == "quoted":
                        if byte == q:
                            state = "quote_in_quoted"
                    elif state == "quote_in_quoted":
                        if byte == q:
                            state = "quoted"
                        elif byte == d:
                            state = "field_start"
                        elif byte != 13:
                            state = "unquoted"  # DuckDB rejects the record and reads on as unquoted
            if state == "quoted":
                if not self.in_quote:
                    self.layout.multiline_records += 1
                self.in_quote = True
            else:
                self.in_quote = False
                logical_no += 1
                if line.endswith(b"\r"):
                    self.layout.crlf_lines += 1
                else:
                    self.layout.lf_lines += 1
        self._blank(np.array(blanks, dtype=np.int64))
        self._records(np.array(phys, dtype=np.int64), np.array(logical, dtype=np.int64))
        self.logical_before = logical_no


def scan_layout(path: Path, delimiter: str = ",", quote: str = '"', force_exact: bool = False) -> Layout:
    """One streaming pass: the header line and the record-to-line map of a UTF-8/latin-1 file."""
    scanner = _Scanner(delimiter, quote, force_exact)
    carry = b""
    with Path(path).open("rb") as fh:
        while True:
            block = fh.read(CHUNK_BYTES)
            if not block:
                break
            buf = carry + block
            cut = buf.rfind(b"\n") + 1
            if cut == 0:
                carry = buf
                continue
            carry = buf[cut:]
            scanner.chunk(buf[:cut])
    if carry:
        scanner.chunk(carry + b"\n")
    layout = scanner.layout
    layout.records = max(scanner.index, 0)
    if layout.header_bytes.startswith(codecs.BOM_UTF8):
        layout.header_bytes = layout.header_bytes[len(codecs.BOM_UTF8) :]
    return layout


def parse_header(header_bytes: bytes, encoding: str, delimiter: str, quote: str) -> list[str]:
    """The header's column names, trimmed."""
    text = header_bytes.decode("latin-1" if encoding == "latin-1" else "utf-8", errors="replace")
    row = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quote or None), [])
    return [c.strip() for c in row]


def sample_records(path: Path, encoding: str, limit_bytes: int = 256 << 10) -> str:
    """The start of the file as text (for sniffing delimiter and quoting), cut at a line break."""
    with Path(path).open("rb") as fh:
        head = fh.read(limit_bytes)
    if len(head) == limit_bytes:
        head = head[: head.rfind(b"\n") + 1] or head
    return head.decode(encoding, errors="replace").lstrip("\ufeff")


def dialect_fit(sample: str, delimiter: str, quote: str) -> tuple[int, float]:
    """(columns in the header, share of the sample's records with that many fields) for one dialect."""
    rows = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, quotechar=quote or None))
    rows = [r for r in rows if r]
    if len(rows) > 1 and rows[-1] and not sample.endswith("\n"):
        rows = rows[:-1]
    if not rows:
        return 0, 0.0
    width = len(rows[0])
    body = rows[1:201]
    if not body:
        return width, 1.0
    return width, sum(len(r) == width for r in body) / len(body)
