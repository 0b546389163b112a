"""Typer sub-commands grouped by pipeline stage; registered on the main app in ``dip.cli``."""
