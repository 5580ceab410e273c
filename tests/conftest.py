"""Shared test setup: a fake AWS environment, and moto.

The import paths are pytest's `pythonpath` (pyproject.toml): the repository, the shared layer and
functions/, as Lambda puts the layer on /opt/python and the functions' code on /var/task.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Never reach a real AWS account, whatever the machine's configuration says.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "orderflow",
        "POWERTOOLS_DEV": "false",
    }
)
for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(variable, None)


@pytest.fixture
def aws() -> Iterator[None]:
    """moto for every AWS call in the test, with orderflow's cached clients reset around it."""
    from moto import mock_aws

    from orderflow.aws import reset_clients

    reset_clients()
    with mock_aws():
        yield
    reset_clients()
