"""Gold tables for the seller dashboard: per account and day, per hashtag and day, per post, and seller alerts."""
