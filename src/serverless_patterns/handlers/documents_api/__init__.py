"""The documents API handler: register uploads, read, list and delete documents.

Documents never travel through the API: ``POST /documents`` returns a presigned S3 POST that
accepts exactly the declared object, and ``GET /documents/{id}`` returns a presigned download URL
once the document processor has accepted it. Entry point: ``documents_api.index.handler``.
"""

from pathlib import Path

__path__.append(str(Path(__file__).resolve().parent.parent / "_shared"))  # see serverless_patterns.handlers
