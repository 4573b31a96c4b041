"""The batch ledger: every landed file's verdict, kept in the warehouse (``raw.batch_ledger``).

A file lands as a batch in state ``landed``; the raw gate moves it to ``passed`` or ``held``
(with the gate, expectations, counts and a sample of why); an operator can ``release`` a held
batch, ``drop`` any batch (its rows leave raw and the built tables, its file leaves the landing
folder), and a corrected file landed under the same name ``supersedes`` a held one. Files that
could not land at all are recorded as ``refused`` (a profile matched, the file did not fit it)
or ``unmatched`` (no profile matches it). Staging reads only the batches whose state is
``passed`` or ``released`` (``raw.batch_states.admitted_at``), so nothing a gate has not judged
reaches a mart, whatever runs overlap. See docs/quality_gates.md.
"""

from orchestration.ledger.store import (
    ADMITTED,
    STATES,
    BatchState,
    batch_states,
    ensure_ledger,
    record_event,
)

__all__ = ["ADMITTED", "STATES", "BatchState", "batch_states", "ensure_ledger", "record_event"]
