"""Processes ``POST /process`` requests: looks up a record by ``id``, writes a result object.

The body is a JSON object with a string ``id`` (and anything else the caller wants processed).
The handler reads the record with that ``id`` from DynamoDB and writes a result document (the
request, the record, when and by which invocation it was processed) to S3 under its own key.
``logic`` parses, validates and builds documents without AWS calls; ``store`` talks to DynamoDB
and S3; ``config`` reads the environment.
"""
