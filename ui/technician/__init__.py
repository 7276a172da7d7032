"""The technician console application."""
