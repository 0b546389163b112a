"""Data lifecycle: table maintenance (`dip maintain`), retention and archive, deletion on request (`dip forget`)."""
