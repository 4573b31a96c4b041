"""What dbt built in the local Spark session, as Parquet for the warehouse to take back.

Run as its own process (``python -m orchestration.engines.spark_export <folder>``) after dbt's build
has ended, so its Spark session (a JVM) opens the same catalogue dbt wrote (Spark's Derby metastore
beside ``PSW_SPARK_WAREHOUSE_DIR``) and is gone when it is done: the Dagster process never holds a
JVM. A managed table is Parquet already (``<warehouse>/<schema>.db/<table>/``) and is read where it
lies; a view is SQL, not files, so it is read through Spark and written to
``<folder>/<schema>/<view>/``. Timestamps are Parquet's INT96 (Spark's default, set here too), which
DuckDB reads as a timestamp without a time zone, as the models' are (the session's time zone is
UTC, as in dbt's profile).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from orchestration.settings import read_environment

BUILT_SCHEMAS = ("staging", "intermediate", "reference", "marts")


def spark_session():
    """A Spark session on dbt's catalogue: the settings of the ``spark`` output of dbt's profile."""
    from pyspark.sql import SparkSession

    warehouse = read_environment().spark_warehouse_path()
    return (
        SparkSession.builder.enableHiveSupport()
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse}")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "INT96")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )


def export(out: Path) -> dict[str, str]:
    """Every relation of the built schemas as a folder of Parquet (views written under ``out``);
    returns ``schema.table`` -> its folder."""
    spark = spark_session()
    spark.sparkContext.setLogLevel("ERROR")
    warehouse = read_environment().spark_warehouse_path()
    written: dict[str, str] = {}
    try:
        for schema in BUILT_SCHEMAS:
            if not spark.catalog.databaseExists(schema):
                continue
            for table in spark.catalog.listTables(schema):
                managed = warehouse / f"{schema}.db" / table.name
                if table.tableType == "MANAGED" and any(managed.glob("*.parquet")):
                    written[f"{schema}.{table.name}"] = str(managed)  # already Parquet: read as it is
                    continue
                folder = out / schema / table.name
                spark.table(f"`{schema}`.`{table.name}`").write.mode("overwrite").parquet(str(folder))
                written[f"{schema}.{table.name}"] = str(folder)
    finally:
        spark.stop()
    return written


if __name__ == "__main__":
    # The one line on stdout is the map of what was written (Spark logs to stderr).
    print(json.dumps(export(Path(sys.argv[1]))))
