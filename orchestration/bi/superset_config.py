"""Superset's configuration for the workspace (read by Superset, in its own environment: this file
imports nothing from the project). orchestration/bi/workspace.py sets the variables it reads."""

import os

# Local use only: the workspace listens on loopback, and these defaults are documented as such.
SECRET_KEY = os.environ["PSW_SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = "sqlite:///" + os.path.join(os.environ["SUPERSET_HOME"], "superset.db")
WTF_CSRF_ENABLED = True
# Nothing is fetched from the network: no telemetry, no external fonts or map tiles.
SCARF_ANALYTICS = False
FEATURE_FLAGS = {"DASHBOARD_RBAC": False}
ROW_LIMIT = 50_000
