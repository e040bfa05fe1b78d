"""Voluntary-return statistics warehouse: Prefect flows, polars staging, DuckDB marts."""
