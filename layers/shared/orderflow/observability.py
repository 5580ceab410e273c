"""The function's Powertools logger, tracer and metrics: one of each per execution environment.

Built when the function's code is first imported (Lambda's init phase); their service name and
namespace come from the environment the template sets (POWERTOOLS_SERVICE_NAME, ..._NAMESPACE).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
