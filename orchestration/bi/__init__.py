"""The BI workspace: Apache Superset, in an environment of its own, opened on the published marts."""
