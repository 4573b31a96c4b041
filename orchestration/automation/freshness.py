"""Freshness policies on the sources: a raw source not refreshed within the window is late, then stale.

The daily schedule refreshes every raw asset once a day, so a source that has not been
materialised for 26 hours (``PSW_FRESHNESS_WARN_HOURS``) means the refresh did not run or
failed, and after 48 hours (``PSW_FRESHNESS_FAIL_HOURS``) it is stale. The daemon evaluates the
policies (``dagster dev`` starts it); the asset's freshness shows in the UI.
"""

from __future__ import annotations

from datetime import timedelta

from dagster import AssetsDefinition, AssetSpec, FreshnessPolicy, apply_freshness_policy

from orchestration.automation.config import AutomationConfig


def source_freshness_policy(config: AutomationConfig) -> FreshnessPolicy:
    return FreshnessPolicy.time_window(
        fail_window=timedelta(hours=config.freshness_fail_hours),
        warn_window=timedelta(hours=config.freshness_warn_hours),
    )


def with_source_freshness(raw_assets: AssetsDefinition, config: AutomationConfig) -> AssetsDefinition:
    """The raw-landing assets with the sources' freshness policy attached to every spec."""
    policy = source_freshness_policy(config)

    def attach(spec: AssetSpec) -> AssetSpec:
        return apply_freshness_policy(spec, policy) if spec.key.path[0] == "raw" else spec

    return raw_assets.map_asset_specs(attach)
