"""Schemathesis over every JSON API operation, as four callers: no input reaches a 500.

The OpenAPI schema of ``/api/v1`` drives schemathesis (its Python API: ``schemathesis.openapi.from_dict``
and ``APIOperation.as_strategy``); each generated case is sent through Django's test client with the
caller's session (CSRF is the test client's, so unsafe methods reach the endpoints). Callers: anonymous,
an entity user, a registry operator with a TOTP-verified session, a provincial authority. Examples per
operation and caller are bounded (``CETS_FUZZ_EXAMPLES``, default 4) so the whole test stays well under a
minute on SQLite; the run derandomizes, so a failure is the same failure every time.
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlencode

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings

from cets.api import api
from tests.conftest import client_for

EXAMPLES = int(os.environ.get("CETS_FUZZ_EXAMPLES", "4"))


def _send(client: Client, case) -> int:
    path = case.formatted_path
    method = case.method.upper()
    query = {k: v for k, v in (case.query or {}).items()}
    if method == "GET":
        return client.get(path, query).status_code
    if query:
        path = f"{path}?{urlencode(query, doseq=True)}"
    body = case.body
    media = case.media_type or "application/json"
    if body is None or type(body).__name__ == "NotSet":
        return client.generic(method, path).status_code
    if media.startswith("multipart/"):
        data = {}
        for k, v in (body or {}).items():
            if isinstance(v, bytes | bytearray):
                data[k] = SimpleUploadedFile(f"{k}.xlsx", bytes(v))
            elif isinstance(v, str) and k in ("file", "upload"):
                data[k] = SimpleUploadedFile(f"{k}.xlsx", v.encode())
            else:
                data[k] = v if isinstance(v, str) else json.dumps(v)
        return client.post(path, data).status_code
    return client.generic(method, path, data=json.dumps(body), content_type=media).status_code


@pytest.fixture
def callers(world):
    clients = {
        "anonymous": Client(),
        "entity": client_for(world.entity_sd1_user),
        "registry": client_for(world.registry_a, verified=True),
        "province": client_for(world.province_sd),
    }
    for c in clients.values():
        c.raise_request_exception = False  # a 500 is an answer to count, not an exception in the test
    return clients


def test_no_operation_answers_5xx(callers):
    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 80
    sent: list[int] = [0]
    failures: list[str] = []

    for op in operations:
        strategy = op.as_strategy()

        @hsettings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
                   suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case):
            for name, client in callers.items():
                status = _send(client, case)
                sent[0] += 1
                if status >= 500:
                    failures.append(f"{name} {case.method} {case.operation.path} {case.formatted_path} query={case.query!r} body={case.body!r} -> {status}")

        run()
    print(f"schemathesis: {len(operations)} operations, {sent[0]} requests, {len(failures)} 5xx")
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} in all)"
