"""Report: what a run loaded, rejected, warned and published."""
