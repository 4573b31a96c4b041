"""``python -m orchestration.cli batches ...``: the batch ledger for operators, on one screen.

  batches list [--state S] [--all]   every file's state (by default: all but passed ones, newest last)
  batches show KEY                   one batch: its history, and why it was held (expectations, rows)
  batches release KEY --reason R     admit a held batch as it is
  batches drop KEY --reason R        take a batch out of raw and every built table; its file leaves the landing folder
  batches supersede KEY --by KEY2    a held batch replaced by a corrected file landed under another name

KEY is a batch id, its first characters, or the file's path in the landing folder.
"""

from __future__ import annotations

import argparse
import json

import duckdb

from orchestration.ledger import operations
from orchestration.ledger.lock import RefreshBusy, refresh_lock
from orchestration.ledger.store import batch_states, ensure_ledger, history
from orchestration.settings import Settings

WIDTH = {"file": 38, "state": 10, "reason": 60}


def _cut(text: str | None, width: int) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def render_list(states, show_all: bool) -> list[str]:
    shown = [s for s in states if show_all or s.state != "passed"]
    counts: dict[str, int] = {}
    for s in states:
        counts[s.state] = counts.get(s.state, 0) + 1
    lines = ["batches: " + ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "batches: none yet"]
    if not shown:
        lines.append("(every batch passed its gate; --all lists them)")
        return lines
    lines.append(f"{'batch':<22} {'file':<{WIDTH['file']}} {'state':<{WIDTH['state']}} {'rows':>8}  why")
    for s in shown:
        rows = f"{s.rows_read:,}" if s.rows_read is not None else "-"
        lines.append(
            f"{_cut(s.batch_id, 22):<22} {_cut(s.source_file, WIDTH['file']):<{WIDTH['file']}} "
            f"{s.state:<{WIDTH['state']}} {rows:>8}  {_cut(s.reason, WIDTH['reason'])}"
        )
    return lines


def render_show(con: duckdb.DuckDBPyConnection, key: str) -> list[str]:
    b = operations.resolve(con, key)
    lines = [
        f"batch    {b.batch_id}",
        f"file     {b.source_file}  (profile {b.source_profile}, source {b.source})",
        f"rows     read {b.rows_read}, landed {b.rows_landed}, quarantined {b.rows_quarantined}",
        f"state    {b.state} since {b.state_changed_at:%Y-%m-%d %H:%M:%S} UTC, by {b.actor}",
    ]
    if b.reason:
        lines.append(f"why      {b.reason}")
    for failure in b.detail.get("failures", []):
        lines.append(f"  - {failure.get('expectation')}: {failure.get('unexpected')} unexpected")
        for row in (failure.get("sample") or [])[:3]:
            lines.append(f"      e.g. {json.dumps(row, default=str)[:150]}")
    lines.append("history")
    for at, state, actor, reason in history(con, b.batch_id):
        lines.append(f"  {at:%Y-%m-%d %H:%M:%S}  {state:<10} {actor}" + (f": {_cut(reason, 70)}" if reason else ""))
    return lines


def add_parser(sub) -> None:
    p = sub.add_parser("batches", help="the batch ledger: list, show, release, drop, supersede")
    bsub = p.add_subparsers(dest="action", required=True)
    ls = bsub.add_parser("list", help="every file's state")
    ls.add_argument("--state", help="only batches in this state")
    ls.add_argument("--all", action="store_true", help="passed batches too")
    bsub.add_parser("show", help="one batch's history and why").add_argument("key")
    for name, text in (("release", "admit a held batch as it is"), ("drop", "remove a batch and reject its file")):
        q = bsub.add_parser(name, help=text)
        q.add_argument("key")
        q.add_argument("--reason", required=True, help="recorded in the ledger with your name")
        q.add_argument("--by", help="your name (default: the login name)")
    q = bsub.add_parser("supersede", help="a held batch replaced by a corrected file under another name")
    q.add_argument("key")
    q.add_argument("--by-batch", dest="by_batch", required=True, help="the corrected file's batch")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.warehouse_path.exists():
        print(f"no warehouse at {settings.warehouse_path} yet: `make run` lands the first files")
        return 1
    try:
        with refresh_lock(settings.warehouse_path, f"batches {args.action}"):
            con = duckdb.connect(str(settings.warehouse_path))
            try:
                ensure_ledger(con)
                lines = _act(con, args, settings)
            finally:
                con.close()
    except (operations.LedgerError, RefreshBusy) as exc:
        print(f"error: {exc}")
        return 1
    print("\n".join(lines))
    return 0


def _act(con, args, settings: Settings) -> list[str]:
    if args.action == "list":
        where, params = ("state = ?", [args.state]) if args.state else ("TRUE", [])
        return render_list(batch_states(con, where, params), args.all or bool(args.state))
    if args.action == "show":
        return render_show(con, args.key)
    if args.action == "release":
        b = operations.release(con, args.key, args.reason, args.by)
        return [f"released {b.batch_id} ({b.source_file}): the next refresh builds it (make run)"]
    if args.action == "drop":
        d = operations.drop(con, args.key, args.reason, settings.landing_dir, settings.rejected_dir, args.by)
        moved = f"; file moved to {d.moved_to}" if d.moved_to else "; its file is no longer in the landing folder"
        return [
            f"dropped {d.batch.batch_id} ({d.batch.source_file}): {d.rows_removed:,} rows left raw, "
            f"{d.quarantine_removed:,} quarantined lines left the quarantine{moved}",
            "the next refresh (make run) rebuilds the tables it was in, if it had reached them",
        ]
    b = operations.supersede(con, args.key, args.by_batch)
    return [f"superseded {b.batch_id} ({b.source_file}): {b.reason}"]
