"""Quality gates (Great Expectations suites run as blocking Dagster asset checks)."""

from dagster import AssetChecksDefinition

ASSET_CHECKS: list[AssetChecksDefinition] = []
