"""The function's Powertools logger, tracer and metrics: one of each per execution environment.

Built when the function's code is first imported (Lambda's init phase); their service name and
namespace come from the environment the template sets (POWERTOOLS_SERVICE_NAME, ..._NAMESPACE).

The tracer is Powertools' Tracer only when Powertools would trace (in Lambda, not under SAM local,
POWERTOOLS_TRACE_DISABLED unset): building a Tracer imports the X-Ray SDK even when it is disabled,
which was the largest part of a handler's import. Otherwise it is `Untraced`, whose decorators
return the function unchanged, as a disabled Tracer's do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer

F = TypeVar("F", bound=Callable[..., Any])


class Untraced:
    """The tracer when tracing is off: the decorators Tracer offers, doing nothing."""

    def capture_lambda_handler(self, lambda_handler: F) -> F:
        return lambda_handler

    def capture_method(self, method: F) -> F:
        return method

    def put_annotation(self, key: str, value: str | float | bool) -> None:
        """Tracer's annotation; nothing to annotate without a trace."""

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None:
        """Tracer's metadata; nothing to attach without a trace."""


def tracing_is_on() -> bool:
    """Whether Powertools' Tracer would trace here (its own rule, read from the environment)."""
    return not Tracer._is_tracer_disabled()  # Powertools' one source of that rule


logger = Logger()
# Typed as Tracer: Untraced offers the part of its interface the functions use.
tracer: Tracer = Tracer() if tracing_is_on() else cast(Tracer, Untraced())
metrics = Metrics()
