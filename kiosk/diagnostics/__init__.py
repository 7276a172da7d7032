"""Technician diagnostics without Qt: device status, self-tests, a log buffer, health figures
(sync backlog, trust-list freshness) and the diagnostics bundle. Import from the modules."""
