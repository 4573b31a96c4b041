"""The public transparency report: a static site built from the marts after each refresh."""
