"""The one translator from dbt's manifest to Dagster's catalog: keys, groups, owners, and a
description in words on every dbt test's asset check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagster import AssetCheckSpec
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings


def _values(values: Sequence[Any], most: int = 6) -> str:
    shown = ", ".join(str(v) for v in values[:most])
    return shown + (f" (and {len(values) - most} more)" if len(values) > most else "")


def describe_test(test: Mapping[str, Any]) -> str:
    """What a dbt data test promises, in a sentence (its yml description wins when it has one)."""
    own = test.get("description") or (test.get("meta") or {}).get("description")
    if own:
        return own
    metadata = test.get("test_metadata") or {}
    kwargs = metadata.get("kwargs") or {}
    column = kwargs.get("column_name") or test.get("column_name")
    name = metadata.get("name")
    if name == "not_null":
        text = f"`{column}` is never empty."
    elif name == "unique":
        text = f"`{column}` is unique: no two rows share a value."
    elif name == "accepted_values":
        text = f"`{column}` takes only these values: {_values(kwargs.get('values') or [])}."
    elif name == "relationships":
        target = str(kwargs.get("to", "")).removeprefix("ref('").removesuffix("')")
        text = f"Every `{column}` is a `{kwargs.get('field')}` of {target}."
    elif name == "unique_combination":
        text = f"One row per {' × '.join(kwargs.get('columns') or [])}."
    elif name == "shares_sum_to_one":
        text = f"`{column}` sums to one within each {' × '.join(kwargs.get('group_by') or [])}."
    elif name:
        text = f"dbt test {name}" + (f" on `{column}`." if column else ".")
    else:  # a singular test: a query that returns the rows breaking a rule
        text = f"No row breaks the rule in tests/{test.get('name')}.sql."
    config = test.get("config") or {}
    if config.get("where"):
        text += f" Only rows where {config['where']}."
    if str(config.get("severity", "error")).lower() == "warn":
        text += " A failure warns; it does not block."
    return text


class WarehouseTranslator(DagsterDbtTranslator):
    """Sources keep dbt's default keys (``raw/<table>``, the landing assets' keys); models and
    seeds are grouped by layer: staging, intermediate, marts, reference. Owners come from dbt
    (``meta.dagster.owners`` per folder in dbt_project.yml)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project) -> AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        return AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=describe_test(manifest["nodes"][unique_id]),
            additional_deps=spec.additional_deps,
            metadata=spec.metadata,
            blocking=spec.blocking,
        )


translator = WarehouseTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
