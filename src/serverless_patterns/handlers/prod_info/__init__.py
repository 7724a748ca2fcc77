"""Answers ``GET /`` of an HTTP API with the deployment's environment name and version.

Every answered request is also recorded as a small JSON object in the log bucket. ``logic``
parses the HTTP API event and builds the answer and the record without AWS calls; ``config``
reads the environment; ``index`` writes the record and answers.
"""
