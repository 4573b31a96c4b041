"""From a suite's outcome to a verdict per batch (a landed file) or per city (a mart's rows).

A critical expectation that fails names the batches it failed in (``failing_batches``): those,
and only those, are held. One that fails without naming any (a missing column, a query error)
holds every batch it judged: nothing says which are fit. Warnings never hold.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from orchestration.checks.outcomes import ExpectationOutcome, SuiteOutcome
from orchestration.checks.suites import Suite

SAMPLE_ROWS = 5


def outcome_label(o: ExpectationOutcome) -> str:
    sev = o.expectation.severity
    return o.expectation.label + ("" if sev == "critical" else f" [{sev}]")


def suite_digest(suite: Suite) -> str:
    """The suite's own text: a batch judged by another version of the suite is judged again."""
    text = suite.path.read_bytes() if suite.path and suite.path.exists() else repr(suite).encode()
    return hashlib.sha256(text).hexdigest()[:16]


@dataclass
class Verdict:
    """Why one batch (or city) is held: each failed expectation, with counts and a sample."""

    key: str
    label: str
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def held(self) -> bool:
        return bool(self.failures)

    def reason(self) -> str:
        """One line: what failed, how often (the ledger's and the alert's reason)."""
        parts = []
        for f in self.failures:
            text = f["expectation"]
            if f.get("unexpected") is not None:
                of = f" of {f['considered']:,}" if f.get("considered") else ""
                text += f" ({f['unexpected']:,} unexpected{of})"
            if f.get("error"):
                text += f": {f['error']}"
            parts.append(text)
        return "; ".join(parts)[:1000]


def judge(outcomes: list[SuiteOutcome], judged: dict[str, str]) -> dict[str, Verdict]:
    """A verdict for each judged key (batch id or city -> label to show, e.g. the file name)."""
    verdicts = {key: Verdict(key, label) for key, label in judged.items()}
    for outcome in outcomes:
        for o in outcome.failed("critical"):
            attributed = [b for b in o.failing_batches if b["batch"] in verdicts]
            base = {"suite": outcome.suite.name, "expectation": outcome_label(o), "error": o.error}
            if o.failing_batches:
                for b in attributed:
                    verdicts[b["batch"]].failures.append(
                        {
                            **base,
                            "unexpected": b.get("unexpected"),
                            "considered": b.get("considered"),
                            "sample": _sample_for(o, b)[:SAMPLE_ROWS],
                        }
                    )
            else:  # nothing says which batches: every batch judged is held
                for verdict in verdicts.values():
                    verdict.failures.append(
                        {
                            **base,
                            "unexpected": o.unexpected_count if not o.error else None,
                            "considered": o.considered or None,
                            "sample": o.sample[:SAMPLE_ROWS],
                        }
                    )
    return verdicts


def _sample_for(o: ExpectationOutcome, batch: dict[str, Any]) -> list[dict[str, Any]]:
    """The batch's own sample (GX's, from that batch's validation), else the sample rows that say
    they are from this file."""
    if batch.get("sample"):
        return batch["sample"]
    rows = o.sample
    for column in ("_batch_id", "batch_id", "_source_file", "source_file", "source_profile", "city"):
        if rows and column in rows[0]:
            wanted = batch["batch"] if column in ("_batch_id", "batch_id", "source_profile", "city") else batch["file"]
            return [r for r in rows if r.get(column) == wanted]
    return rows
