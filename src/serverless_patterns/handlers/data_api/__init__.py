"""The secure data API: health, and write/read/list of objects under a prefix of one bucket."""

from pathlib import Path

__path__.append(str(Path(__file__).resolve().parent.parent / "_shared"))  # see serverless_patterns.handlers
