"""How a file is read: its encoding (byte-order mark, transcoding to UTF-8), its delimiter and
quote character. Landing checks a file against its profile with these; onboarding sniffs a new
city's file with the same functions."""

from __future__ import annotations

import codecs
import csv
import re
from collections import Counter
from pathlib import Path

from orchestration.landing import csvfile
from orchestration.landing.errors import LandingError
from orchestration.landing.profiles import SourceProfile, spelling

CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
CANDIDATE_QUOTES = ('"', "'")


def sniff_encoding(path: Path) -> str:
    """The encoding a file most likely has: its byte-order mark, else UTF-8 if its first MiB
    decodes, else Windows-1252 or Latin-1."""
    bom = csvfile.sniff_bom(path)
    if bom:
        return bom
    with Path(path).open("rb") as fh:
        head = fh.read(1 << 20)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        # bytes 0x80-0x9f are printable in Windows-1252 (curly quotes, the euro) and controls in Latin-1
        return "cp1252" if re.search(rb"[\x80-\x9f]", head) else "latin-1"


def dialect_fits(sample: str) -> dict[tuple[str, str], tuple[int, float]]:
    """(delimiter, quote) -> (header width, share of records with that width) for every candidate."""
    return {(d, q): csvfile.dialect_fit(sample, d, q) for d in CANDIDATE_DELIMITERS for q in CANDIDATE_QUOTES}


def sniff_dialect(sample: str) -> tuple[str, str]:
    """The (delimiter, quote) that reads the sample best."""
    fits = dialect_fits(sample)
    # the most records with the header's width, then the most columns, then the usual ',' and '"'
    (delimiter, quote), _ = max(
        fits.items(), key=lambda kv: (kv[1][1], kv[1][0] > 1, kv[1][0], kv[0] == (",", '"'), kv[0][1] == '"')
    )
    return delimiter, quote


def _readable(path: Path, profile: SourceProfile, workdir: Path, notes: list[str], shown: str) -> tuple[Path, str]:
    """(file DuckDB reads, DuckDB encoding name): the file itself, or a UTF-8 transcoded copy."""
    declared = profile.csv.encoding
    bom = csvfile.sniff_bom(path)
    encoding = declared
    if bom and codec_name(bom) != codec_name(declared) and not (bom == "utf-8" and codec_name(declared) == "utf-8"):
        notes.append(f"byte-order mark says {bom}; read as {bom} (the profile says {declared})")
        encoding = bom
    if not bom and not codec_name(declared).startswith("utf-16"):
        utf16 = csvfile.utf16_without_bom(path)
        if utf16:
            raise LandingError(
                f"{shown}: refused, looks like {utf16.upper()} without a byte-order mark (every other byte of "
                f"its start is 0) while the profile reads it as {declared}. Set csv.encoding: {utf16} in "
                f"{profile.path or profile.name}, or re-export the file as UTF-8."
            )
    if not csvfile.needs_transcoding(encoding):
        return path, csvfile.NATIVE_ENCODINGS[encoding.lower()]
    out = workdir / (path.name + ".utf8.csv")
    try:
        csvfile.transcode_to_utf8(path, encoding, out)
    except UnicodeError as exc:  # UnicodeDecodeError, or UTF-16 without a byte-order mark
        reason = getattr(exc, "reason", None) or str(exc)
        hint = " (utf-16-le or utf-16-be for a file without one)" if codec_name(encoding) == "utf-16" else ""
        raise LandingError(
            f"{shown}: refused, not {encoding}: {reason}. Set csv.encoding in the profile{hint}."
        ) from exc
    if codec_name(encoding) != "utf-16":
        notes.append(f"transcoded from {encoding} to UTF-8 while streaming")
    return out, "utf-8"


def codec_name(encoding: str) -> str:
    return codecs.lookup(encoding).name


def _dedupe(header: list[str]) -> list[str]:
    """Column names DuckDB can take: empty names numbered, repeated names suffixed _2, _3, ..."""
    seen: Counter = Counter()
    out = []
    for i, name in enumerate(header, 1):
        name = name or f"column_{i}"
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def _check_dialect(readable: Path, encoding: str, profile: SourceProfile, header: list[str], shown: str) -> None:
    """Refuse a file whose delimiter or quote character is not the profile's, naming what was found."""
    sample = csvfile.sample_records(readable, "latin-1" if encoding == "latin-1" else "utf-8")
    delim, quote = profile.csv.delimiter, profile.csv.quote
    width, fit = csvfile.dialect_fit(sample, delim, quote)
    fits = dialect_fits(sample)
    wanted = {spelling(c) for c in profile.source_columns()}  # a column as the profile writes it, or spelt otherwise
    if width <= 1 or not ({spelling(h) for h in header} & wanted):
        for (d, _q), (w, f) in sorted(fits.items(), key=lambda kv: (-kv[1][1], -kv[1][0])):
            split = next(iter(csv.reader([sample.splitlines()[0]], delimiter=d)), []) if sample else []
            if d != delim and w > 1 and f >= 0.9 and {spelling(c.strip()) for c in split} & wanted:
                shown_cols = ", ".join(c.strip() for c in split[:8]) + (", ..." if len(split) > 8 else "")
                raise LandingError(
                    f"{shown}: refused, wrong delimiter: the header has no {delim!r} (the profile's csv.delimiter) "
                    f"but splits on {d!r} into {w} columns ({shown_cols}). Set csv.delimiter: {d!r} in "
                    f"{profile.path or profile.name}, or re-export the file with {delim!r}."
                )
    if fit < 0.5:
        best = max(((q, f) for (d, q), (w, f) in fits.items() if d == delim and w == width), key=lambda x: x[1])
        if best[0] != quote and best[1] >= 0.9:
            raise LandingError(
                f"{shown}: refused, wrong quote character: only {fit:.0%} of the first records have {width} fields "
                f"when quoted with {quote!r} (the profile's csv.quote), {best[1]:.0%} with {best[0]!r}. "
                f"Set csv.quote: {best[0]!r} in {profile.path or profile.name}."
            )
