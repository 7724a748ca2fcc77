"""The secure data API: health, and write/read/list of objects under a prefix of one bucket."""
