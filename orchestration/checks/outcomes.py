"""What a gate's run of a suite came to: GX's validation results, one per batch (a landed file or
a city), gathered per expectation for the ledger, the check's metadata and the alerts.

Every figure here is read from GX's ``ExpectationValidationResult`` (its ``success``,
``element_count``, ``missing_count``, ``unexpected_count``, ``partial_unexpected_index_list``,
``observed_value``, ``details``); nothing is evaluated here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from orchestration.checks.suites import Expectation, Suite


@dataclass
class ExpectationOutcome:
    """One expectation of the suite over every batch judged: GX's results added up.

    ``failing_batches``: the batches whose GX result failed (``mostly`` is judged per batch), each
    with its counts and its own sample rows."""

    expectation: Expectation
    success: bool
    element_count: int = 0
    considered: int = 0
    unexpected_count: int = 0
    observed: Any = None
    sample: list[dict[str, Any]] = field(default_factory=list)
    failing_batches: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: str | None = None
    evaluated: bool = True

    @property
    def unexpected_percent(self) -> float | None:
        return round(100.0 * self.unexpected_count / self.considered, 4) if self.considered else None


@dataclass
class SuiteOutcome:
    suite: Suite
    outcomes: list[ExpectationOutcome]
    rows: int = 0
    batches: int = 0
    elapsed_seconds: float = 0.0
    skipped_reason: str | None = None
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    # GX's ExpectationSuiteValidationResult of each batch, as GX writes it (to_json_dict)
    validation_results: list[dict[str, Any]] = field(default_factory=list)
    # the same as GX objects, (batch label, batch key, result), and the suite as GX ran it: for the Data Docs
    gx_results: list[tuple[str, str | None, Any]] = field(default_factory=list, repr=False)
    gx_suite: Any = field(default=None, repr=False)
    validated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def failed(self, severity: str | None = None) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and (severity is None or o.expectation.severity == severity)]

    @property
    def success(self) -> bool:
        """The gate holds: no critical expectation failed (warnings are reported, not blocking)."""
        return not self.failed("critical")

    @property
    def evaluated(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.evaluated]
