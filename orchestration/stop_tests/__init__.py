"""Tests of stop disparities as analysts run them: the outcome test within area, and the veil of darkness."""
