"""What a hostile URL or query can carry is refused with a 400 or a 404 before it reaches
Redis, the object store or a log line: offsets of any length, chunk sizes that are not
numbers, a session reached under another token, line breaks in ids."""

import logging
import uuid
from typing import Any

import pytest
from api_process import eventually
from upload_harness import MiB, RunningApi

pytestmark = pytest.mark.stack

OCTET = {"Content-Type": "application/octet-stream"}
INVALID_OFFSET = "Invalid chunk offset: expected at most 20 decimal digits."


async def new_session(client: Any, token: str = "arweave") -> str:
    created = await client.get(f"/chunks/{token}/-1/-1")
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


@pytest.mark.parametrize(
    "offset",
    ["9" * 300, "9" * 4301, "1" * 21, "%C2%B2", "-5", "0x10"],
    ids=["300-digits", "4301-digits", "21-digits", "superscript-two", "negative", "hex"],
)
async def test_a_chunk_offset_that_is_not_a_short_decimal_is_400(
    api: RunningApi, offset: str
) -> None:
    async with api.client() as client:
        upload_id = await new_session(client)
        answer = await client.post(
            f"/chunks/arweave/{upload_id}/{offset}", content=b"x" * 1024, headers=OCTET
        )
        listing = (await client.get(f"/chunks/arweave/{upload_id}/-1")).json()
    assert (answer.status_code, answer.text) == (400, INVALID_OFFSET)
    assert listing["chunks"] == []
    assert api.stored_files() == []


@pytest.mark.parametrize(
    "chunk_size",
    ["-5", "abc", "%C2%B2", "9" * 5000, ""],
    ids=["negative", "letters", "superscript-two", "5000-digits", "empty"],
)
async def test_a_chunk_size_that_is_not_a_number_is_400(api: RunningApi, chunk_size: str) -> None:
    async with api.client() as client:
        answer = await client.get(f"/chunks/arweave/-1/-1?chunkSize={chunk_size}")
    assert answer.status_code == 400
    assert answer.json() == {"error": "Invalid chunk size", "min": 5 * MiB, "max": 500 * MiB}


async def test_a_session_is_not_found_under_another_token(api: RunningApi) -> None:
    async with api.client() as client:
        upload_id = await new_session(client, "arweave")
        chunk = await client.post(
            f"/chunks/ethereum/{upload_id}/0", content=b"x" * 1024, headers=OCTET
        )
        listing = await client.get(f"/chunks/ethereum/{upload_id}/-1")
        finalize = await client.post(f"/chunks/ethereum/{upload_id}/-1")
        own = (await client.get(f"/chunks/arweave/{upload_id}/-1")).json()
    assert [chunk.status_code, listing.status_code, finalize.status_code] == [404, 404, 404]
    assert chunk.text == f"Multi-part upload with ID {upload_id} not found!"
    assert own["chunks"] == []
    assert api.stored_files() == []


async def test_a_line_break_in_an_id_never_reaches_a_log_line(
    make_api: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # A schema that does not exist: every projection query fails and the API logs that
    # it answers from the fresh view, naming the id it was asked for.
    absent_schema = f"absent_{uuid.uuid4().hex[:8]}"
    forged = "A" * 43 + "%0A[ERROR] FORGED"
    caplog.set_level(logging.WARNING)
    async with make_api(postgres__projections_schema=absent_schema) as api, api.client() as client:
        answers = [
            await client.get(f"/tx/{forged}/status"),
            await client.get(f"/tx/{forged}/offsets"),
            await client.get(f"/chunks/arweave/{uuid.uuid4()}%0A[ERROR] FORGED/-1"),
        ]
        genuine = await client.get(f"/tx/{'A' * 43}/status")  # this one is logged
    await eventually(lambda: any("A" * 43 in r.getMessage() for r in caplog.records), "a log")
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert genuine.status_code == 404
    assert [r.getMessage() for r in caplog.records if "FORGED" in r.getMessage()] == []
