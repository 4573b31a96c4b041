"""Onboard a city: ``python -m orchestration.onboard <sample.csv>`` (usage and what it does:
orchestration/onboarding/command.py, or ``--help``)."""

from __future__ import annotations

import sys

from orchestration.onboarding.command import dry_run, main, onboard, render

__all__ = ["dry_run", "main", "onboard", "render"]

if __name__ == "__main__":
    sys.exit(main())
