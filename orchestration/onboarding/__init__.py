"""Onboarding a city's extract (python -m orchestration.onboard): one job per module."""
