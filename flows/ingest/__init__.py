"""Ingest: discover raw files, parse each by its content, stage the figures with polars."""
