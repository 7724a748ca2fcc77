"""What a handler's cold start imports: none of the Powertools machinery it does not use.

Powertools' batch utility and event handler import ``asyncio`` and a data class for every Lambda
event source (a tenth to a fifth of ``import boto3``); the handlers use their own partial-batch
loop and routes instead. Each handler is imported as Lambda imports it (``<name>.index`` from the
task root), with tracing on, in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from serverless_patterns.handlers import HANDLERS_DIR

#: Modules that only the utilities the handlers do not use would load.
UNUSED = ("asyncio", "aws_lambda_powertools.utilities.batch", "aws_lambda_powertools.event_handler",
          "aws_lambda_powertools.utilities.data_classes")

HANDLERS = sorted(p.name for p in HANDLERS_DIR.iterdir() if (p / "index.py").is_file())

PROBE = """
import json, sys
import {name}.index
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("asyncio", "aws_lambda_powertools"))))
"""


@pytest.mark.parametrize("name", HANDLERS)
def test_handler_import_loads_no_unused_powertools_machinery(name):
    env = {key: value for key, value in os.environ.items() if not key.startswith("POWERTOOLS_TRACE")}
    env.update(PYTHONPATH=str(HANDLERS_DIR), LAMBDA_TASK_ROOT=str(HANDLERS_DIR), AWS_LAMBDA_FUNCTION_NAME="probe",
               POWERTOOLS_SERVICE_NAME="probe", AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:2000")
    result = subprocess.run([sys.executable, "-c", PROBE.format(name=name)], env=env, capture_output=True,
                            text=True, check=False, cwd=HANDLERS_DIR)
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert "aws_lambda_powertools.tracing" in loaded  # tracing is on, as deployed
    unused = [module for module in loaded if module.startswith(UNUSED)]
    assert not unused, f"{name}.index imports {unused}"
