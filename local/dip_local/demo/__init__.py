"""`dip demo`: the whole pipeline end to end on the embedded default, with a closing summary."""
