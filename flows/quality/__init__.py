"""Quality: the Great Expectations suites that gate what is published."""
