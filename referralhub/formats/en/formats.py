"""Dates as the dashboard and the audit trail write them (2026-12-01 15:49:59), for the admin's
pages too, where Django's English default reads "Dec. 1, 2026, 3:49 p.m." and drops the seconds.
Django takes every format not named here from its own English ones."""

DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i:s"
DATETIME_FORMAT = "Y-m-d H:i:s"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
