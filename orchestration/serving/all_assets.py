"""Every serving asset, as the Definitions take them."""

from dagster import AssetsDefinition

from orchestration.report.assets import transparency_report
from orchestration.serving.assets import parquet_marts, postgres_marts, warehouse_serving

SERVING_ASSETS: list[AssetsDefinition] = [warehouse_serving, parquet_marts, postgres_marts, transparency_report]
