"""Schedules, sensors and alerts."""

from dagster import ScheduleDefinition, SensorDefinition

SCHEDULES: list[ScheduleDefinition] = []
SENSORS: list[SensorDefinition] = []
