"""Warehouse: build the star schema and the marts into a new DuckDB file."""
