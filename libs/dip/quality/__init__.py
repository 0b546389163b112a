"""Data quality: Great Expectations suites (files in ``expectations/``) applied to every silver batch."""
