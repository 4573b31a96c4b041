"""Pull a source from a Socrata-style open-data API into the landing folder, page by page.

The pages are written as CSV files into the profile's ``api.folder`` under the landing folder,
so the normal landing reads them: same profile, same quarantine, same lineage, and a page pulled
twice is the same content, hence the same batch, landed once.

The pull is incremental. It asks for the rows updated at or after the cursor, sorted by the
updated-at field and then the id (``$where``, ``$order``), ``$limit`` rows at a time with
``$offset``, until a short page. The cursor (the latest updated-at value seen, and the ids seen at
that exact value) is kept in ``<folder>/.cursor.json`` and written only after every page of the
pull is on disk: a pull that fails half-way is simply asked again, and the next pull asks only
for newer rows. Rows updated at exactly the cursor time are asked again (``>=``, so none is
missed when several share a timestamp) and dropped here if their id was already pulled.

Only the standard library (urllib) is used; an app token is sent when the environment variable
named in ``api.app_token_env`` is set. Socrata's JSON leaves out null fields and gives numbers,
booleans and nested objects (locations) their JSON types: they are written as text (booleans as
true/false, objects as JSON).
"""

from __future__ import annotations

import csv
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.landing.profiles import ApiSource, SourceProfile
from orchestration.settings import read_environment

CURSOR_FILE = ".cursor.json"


class PullError(RuntimeError):
    """The API could not be read; nothing of the failed pull is kept as the new cursor."""


@dataclass
class PullResult:
    profile: str
    url: str
    cursor_before: str | None
    cursor_after: str | None
    rows: int = 0
    pages: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _soql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _read_state(folder: Path) -> dict:
    path = folder / CURSOR_FILE
    if not path.exists():
        return {"cursor": None, "ids_at_cursor": []}
    return json.loads(path.read_text(encoding="utf-8"))


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    tmp.replace(path)


def _page_file(folder: Path, cursor: str | None, page: int) -> Path:
    stamp = re.sub(r"[^0-9A-Za-z]+", "", cursor or "") or "start"
    return folder / f"pull_after_{stamp}_page_{page:04d}.csv"


def _write_page(path: Path, rows: list[dict], first_columns: list[str]) -> None:
    columns = list(dict.fromkeys(first_columns + sorted({k for r in rows for k in r})))
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
    tmp.replace(path)  # the landing never sees a half-written page


def _get(url: str, api: ApiSource, timeout: float) -> list[dict]:
    headers = {"Accept": "application/json", "User-Agent": "public-safety-warehouse"}
    token = read_environment().value(api.app_token_env) if api.app_token_env else None
    if token:
        headers["X-App-Token"] = token
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http(s) URL from the profile)
            payload = json.load(response)
    except urllib.error.HTTPError as exc:
        raise PullError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
        raise PullError(f"{url}: {exc}") from exc
    if not isinstance(payload, list):
        raise PullError(f"{url}: expected a JSON list of rows, got {type(payload).__name__}")
    return payload


def pull(profile: SourceProfile, landing_dir: Path, timeout: float = 60.0, max_pages: int = 100_000) -> PullResult:
    """Pull every row updated since the cursor into CSV pages under ``landing_dir / api.folder``."""
    api = profile.api
    if api is None:
        raise ValueError(f"profile {profile.name} has no api section")
    if not api.url.startswith(("http://", "https://")):
        raise PullError(f"{profile.name}: api.url must be http(s), got {api.url!r}")
    folder = Path(landing_dir) / api.folder
    folder.mkdir(parents=True, exist_ok=True)
    state = _read_state(folder)
    cursor, seen_at_cursor = state.get("cursor"), set(state.get("ids_at_cursor", []))
    result = PullResult(profile.name, api.url, cursor, cursor)
    first_columns = [api.id_field, api.updated_field] + sorted(profile.source_columns())
    latest, ids_at_latest = cursor, set(seen_at_cursor)
    for page in range(1, max_pages + 1):
        params = {
            "$order": f"{api.updated_field},{api.id_field}",
            "$limit": str(api.page_size),
            "$offset": str((page - 1) * api.page_size),
        }
        if cursor:
            params["$where"] = f"{api.updated_field} >= {_soql_literal(cursor)}"
        url = f"{api.url}{'&' if '?' in api.url else '?'}{urllib.parse.urlencode(params)}"
        result.requests.append(url)
        rows = _get(url, api, timeout)
        fresh = [
            r
            for r in rows
            if not (cursor and r.get(api.updated_field) == cursor and str(r.get(api.id_field)) in seen_at_cursor)
        ]
        for r in fresh:
            updated, row_id = r.get(api.updated_field), str(r.get(api.id_field))
            if updated is None:
                continue
            if latest is None or updated > latest:
                latest, ids_at_latest = updated, {row_id}
            elif updated == latest:
                ids_at_latest.add(row_id)
        if fresh:
            path = _page_file(folder, cursor, page)
            _write_page(path, fresh, first_columns)
            if path not in profile.matching_files(Path(landing_dir)):
                path.unlink()
                raise PullError(
                    f"{profile.name}: pages written to {api.folder}/ are not matched by the profile's files "
                    f"patterns ({', '.join(profile.files)}): add '{api.folder}/*.csv'"
                )
            result.pages.append(path.name)
            result.rows += len(fresh)
        if len(rows) < api.page_size:
            break
    else:
        raise PullError(f"{api.url}: more than {max_pages} pages; raise max_pages or page_size")
    result.cursor_after = latest
    _write_atomically(
        folder / CURSOR_FILE,
        json.dumps({"cursor": latest, "ids_at_cursor": sorted(ids_at_latest)}, indent=2) + "\n",
    )
    return result
