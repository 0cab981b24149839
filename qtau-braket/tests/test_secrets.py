"""No credential in logs or tracebacks, at DEBUG, with the Braket stub (issue 11, item 7).

botocore logs every request's headers at DEBUG (the access key id inside Authorization, and
X-Amz-Security-Token), and a ClientError's text can quote the access key id. QTAU redacts the
records of the SDK loggers it drives as they are created, whatever handler receives them, and the
plugin raises its QtauErrors without chaining the provider's exception."""

from __future__ import annotations

import logging
import traceback

import pytest
from braket.circuits import Circuit
from qtau.errors import AuthenticationError
from qtau.secrets import Secret, redact
from qtau.service import PilotComputeService
from qtau.types import QuantumTask

SESSION_TOKEN = "FwoGZXIvYXdzEJr//////////wEaDQTAUSTUBsessionTOKEN+abc0123456789="


def _x0() -> Circuit:
    return Circuit().x(0).i(1)


@pytest.fixture
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("botocore", "boto3", "urllib3", "s3transfer", "braket"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_debug_logs_of_a_braket_run_hold_no_credentials(host, fresh_stub, debug_logs):
    description = {"resource_type": "quantum", "quantum": {"executor": "braket_sv1"},
                   **fresh_stub.config(), "aws_session_token": SESSION_TOKEN}
    with PilotComputeService(execution_engine="local", plugins=host) as pcs:
        pcs.create_pilot(description)
        [result] = pcs.get_results(pcs.submit_quantum_tasks([QuantumTask(circuit=_x0(), shots=20)]), timeout=120)
    assert result.counts == {"01": 20}
    text = debug_logs.text
    # botocore did log the signed requests: the headers were there to leak.
    assert any(r.name.startswith("botocore") for r in debug_logs.records)
    assert "Authorization" in text and "X-Amz-Security-Token" in text
    for secret in (fresh_stub.access_key, fresh_stub.secret_key, SESSION_TOKEN, SESSION_TOKEN[:24]):
        assert secret not in text


def test_refused_key_traceback_has_no_chained_provider_error(host, stub, debug_logs):
    key_id = "AKIAREFUSEDKEY000001"
    config = {"executor": "braket_sv1", **stub.config(), "aws_access_key_id": key_id,
              "aws_secret_access_key": "refused-secret-0123456789abcdefghij"}
    with pytest.raises(AuthenticationError) as info:
        host.resources("braket_sv1", config)
    err = info.value
    assert "UnrecognizedClientException" in str(err)  # the safe detail stays in the message
    assert err.__cause__ is None and err.__suppress_context__
    shown = "".join(traceback.format_exception(err))
    assert "ClientError" not in shown and "botocore" not in shown
    assert key_id not in shown and key_id not in debug_logs.text
    assert "refused-secret" not in shown and "refused-secret" not in debug_logs.text


@pytest.mark.parametrize(
    "text,secret",
    [
        ("An error occurred (InvalidAccessKeyId): AWSAccessKeyId ASIAZZZZNEVERSEEN001 not found", "ASIAZZZZNEVERSEEN001"),
        ("headers: {'X-Amz-Security-Token': b'IQoJb3JpZ2luX2VjEOr//never/seen+token='}", "IQoJb3JpZ2lu"),
        ("{'Authorization': b'AWS4-HMAC-SHA256 Credential=AKIAZZZZNEVERSEEN002/20261201/us-east-1/braket'}",
         "AKIAZZZZNEVERSEEN002"),
        ("?X-Amz-Security-Token=abc%2Fneverseen&X-Amz-Signature=0123abcd", "abc%2Fneverseen"),
        ("Authorization: Bearer eyJneverseen.payload.signature", "eyJneverseen"),
        ("grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=ibmNEVERSEENkey123", "ibmNEVERSEENkey123"),
    ],
)
def test_credential_shaped_text_is_redacted_even_if_never_a_secret(text, secret):
    assert secret not in redact(text)


def test_third_party_records_are_redacted_for_any_handler(caplog):
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")
    logging.getLogger("urllib3.connectionpool").debug("sending %s", {"Authorization": "Bearer abcdefghNEVER123"})
    logging.getLogger("botocore.endpoint").warning("key %s", "AKIAZZZZNEVERSEEN003")
    Secret("a-known-secret-value-42")
    logging.getLogger("ibm_cloud_sdk_core.authenticators").warning("token a-known-secret-value-42")
    assert "abcdefghNEVER123" not in caplog.text and "AKIAZZZZNEVERSEEN003" not in caplog.text
    assert "a-known-secret-value-42" not in caplog.text and caplog.text.count("***") == 3
