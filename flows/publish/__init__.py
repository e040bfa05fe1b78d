"""Publish: put a checked warehouse and its exports in place, and verify what is published."""
