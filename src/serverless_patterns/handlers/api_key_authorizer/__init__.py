"""Lambda REQUEST authorizer that checks API keys against a permissions table.

Deployed with the handler ``api_key_authorizer.index.handler``. Environment:

``PERMISSIONS_TABLE``
    Name of the DynamoDB table of key digests (see :mod:`.records`).
``ROUTE_PERMISSIONS``
    JSON list of ``{"method", "path", "level"}`` objects (see :mod:`.routes`).
``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``
    Logger service and metric namespace.

This package's ``__init__`` imports nothing, so the pure modules (:mod:`.keys`, :mod:`.routes`,
:mod:`.records`, :mod:`.decision`) can be used without Powertools or boto3.
"""
