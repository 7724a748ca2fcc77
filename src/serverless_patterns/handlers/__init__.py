"""Lambda handler code shipped as package data, one package per handler.

Each handler lives in its own directory ``handlers/<name>/``: a Python package with an
``index.py`` that exposes ``handler``, whose modules import each other relatively
(``from .logic import ...``). The same files then work both as
``serverless_patterns.handlers.<name>`` (in tests) and as the Lambda asset root, where the
entry point is ``<name>.index.handler``.

Rules several handlers must agree on (how S3 encodes keys in its events, which batch records can
be reported) live once in ``handlers/_shared/``. A handler that uses them appends that directory
to its package's ``__path__`` in its ``__init__.py`` (one line, no import of this module: the
asset holds no ``handlers/__init__.py``), so ``from .s3_event_keys import decode_key``
imports the one file, and :func:`handler_code` ships ``_shared/`` beside the handler's directory
in its asset: the import resolves the same way in the package, in Lambda and in the emulator.

Examples
--------
>>> from serverless_patterns.handlers import handler_code, handler_entry
>>> handler_entry("example_echo")
'example_echo.index.handler'
>>> code = handler_code("example_echo")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # aws_cdk is imported only when code is built: handlers and the CLI do not need it
    from aws_cdk import aws_lambda as lambda_

#: The directory that holds one sub-directory per handler; the asset root of every handler.
HANDLERS_DIR = Path(__file__).resolve().parent

#: Code shared by several handlers (not a handler: it has no ``index.py``).
SHARED_DIR = HANDLERS_DIR / "_shared"

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def uses_shared_code(name: str) -> bool:
    """Whether handler ``name`` imports from ``_shared/`` (its package path includes it)."""
    _require_handler(name)
    package = importlib.import_module(f"{__name__}.{name}")
    return str(SHARED_DIR) in [str(Path(p).resolve()) for p in getattr(package, "__path__", [])]


def handler_names() -> list[str]:
    """The names of the handlers shipped with the package (directories with an ``index.py``)."""
    return sorted(p.parent.name for p in HANDLERS_DIR.glob("*/index.py"))


def handler_code(name: str) -> lambda_.Code:
    """Lambda code for handler ``name``: an asset of ``handlers/`` holding only ``<name>/``.

    Everything else under ``handlers/`` (other handlers, this ``__init__.py``, byte code) is
    excluded, so each function ships only its own code and adding a handler does not change the
    asset hash of the others; a handler that uses ``_shared/`` gets that directory too. No Docker
    bundling: the handlers need only the Lambda runtime's boto3 and the Powertools layer.

    Raises
    ------
    ValueError
        When no handler of that name exists; the message lists the handlers that do.
    """
    _require_handler(name)
    from aws_cdk import IgnoreMode
    from aws_cdk import aws_lambda as lambda_

    return lambda_.Code.from_asset(
        str(HANDLERS_DIR),
        ignore_mode=IgnoreMode.GIT,
        # gitignore semantics: exclude everything, then re-include this handler's directory.
        exclude=[
            "/*",
            f"!/{name}/",
            *([f"!/{SHARED_DIR.name}/"] if uses_shared_code(name) else []),
            "__pycache__/",
            "*.pyc",
        ],
    )


def handler_entry(name: str) -> str:
    """The Lambda ``handler`` setting for handler ``name``: ``"<name>.index.handler"``."""
    _require_handler(name)
    return f"{name}.index.handler"


def _require_handler(name: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"handler name {name!r}: must be a lowercase Python identifier, e.g. 'example_echo'")
    if not (HANDLERS_DIR / name / "index.py").is_file():
        available = ", ".join(handler_names()) or "none"
        raise ValueError(f"handler name {name!r}: no such handler (available: {available})")
