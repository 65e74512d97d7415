"""Tests for the scripted stub LLM server (tests/stub_llm.py)."""

from __future__ import annotations

import json
import os
import threading
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import httpx
import pytest

from tests.stub_llm import Reply, StubLLM


def _chat(stub: StubLLM, content: str, **kw: object) -> httpx.Response:
    body = {"model": "stub-model", "messages": [{"role": "user", "content": content}], **kw}
    headers = {"Authorization": "Bearer sk-test-123"}
    return httpx.post(f"{stub.url}/chat/completions", json=body, headers=headers, timeout=5)


def test_scripted_sequence_and_counts(stub_llm: StubLLM) -> None:
    stub_llm.script("flaky", Reply.error(500), Reply.error(500, retry_after=1), Reply("recovered"))

    statuses = [_chat(stub_llm, "please be flaky").status_code for _ in range(3)]
    last = _chat(stub_llm, "flaky again")

    assert statuses == [500, 500, 200]
    assert last.json()["choices"][0]["message"]["content"] == "recovered"  # last reply repeats
    assert stub_llm.call_count("flaky") == 4
    assert stub_llm.call_count() == 4
    assert [c.status for c in stub_llm.calls("flaky")] == [500, 500, 200, 200]
    call = stub_llm.calls("flaky")[0]
    assert call.authorization == "Bearer sk-test-123"
    assert call.messages_text == "please be flaky"
    assert call.body["model"] == "stub-model"


def test_error_shape_and_headers(stub_llm: StubLLM) -> None:
    stub_llm.script("limit", Reply.error(429, "slow down", retry_after=2))
    resp = _chat(stub_llm, "rate limit me")
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == "2"
    assert resp.json()["error"]["message"] == "slow down"
    assert resp.json()["error"]["code"] == "rate_limit_exceeded"


def test_first_matching_rule_wins(stub_llm: StubLLM) -> None:
    stub_llm.script("alpha", Reply("from alpha"))
    stub_llm.script("alpha beta", Reply("from alpha beta"))
    resp = _chat(stub_llm, "alpha beta")
    assert resp.json()["choices"][0]["message"]["content"] == "from alpha"
    assert stub_llm.call_count("alpha") == 1
    assert stub_llm.call_count("alpha beta") == 0


def test_delay_is_recorded(stub_llm: StubLLM) -> None:
    stub_llm.script("slow", Reply("late", delay=0.3))
    assert _chat(stub_llm, "slow one").status_code == 200
    (call,) = stub_llm.calls("slow")
    assert call.finished_mono is not None and call.finished_wall is not None
    assert call.finished_mono - call.started_mono >= 0.3
    assert call.duration is not None and call.duration >= 0.3


def test_401_echoes_key(stub_llm: StubLLM) -> None:
    stub_llm.script("secret", Reply.echo_key_401())
    resp = _chat(stub_llm, "secret stuff")
    assert resp.status_code == 401
    err = resp.json()["error"]
    assert err["message"] == "Incorrect API key provided: sk-test-123."
    assert err["type"] == "invalid_request_error"
    assert err["code"] == "invalid_api_key"


def test_unmatched_gets_default(stub_llm: StubLLM) -> None:
    stub_llm.script("something else", Reply("nope"))
    data = _chat(stub_llm, "hello there").json()
    assert data["object"] == "chat.completion"
    assert data["model"] == "stub-model"
    assert data["choices"][0]["message"] == {"role": "assistant", "content": "Final Answer: ok"}
    assert data["choices"][0]["finish_reason"] == "stop"
    assert data["usage"]["total_tokens"] == (
        data["usage"]["prompt_tokens"] + data["usage"]["completion_tokens"]
    )
    assert stub_llm.calls()[0].rule is None
    assert stub_llm.call_count("something else") == 0


def test_models_endpoint(stub_llm: StubLLM) -> None:
    data = httpx.get(f"{stub_llm.url}/models", timeout=5).json()
    assert data["object"] == "list" and len(data["data"]) == 1


def test_streaming(stub_llm: StubLLM) -> None:
    text = "one two three four five six seven eight nine ten eleven"
    stub_llm.script("stream", Reply(text))
    resp = _chat(stub_llm, "stream it", stream=True)
    assert resp.headers["content-type"].startswith("text/event-stream")
    events = [line.removeprefix("data: ") for line in resp.text.split("\n\n") if line]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert content == text
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["completion_tokens"] == 11
    assert stub_llm.calls("stream")[0].status == 200


def test_held_replies_answer_together_on_release(stub_llm: StubLLM) -> None:
    stub_llm.script("hold", Reply("let go", held=True))
    answers: list[httpx.Response] = []
    clients = [
        threading.Thread(target=lambda: answers.append(_chat(stub_llm, "hold me")))
        for _ in range(3)
    ]
    for client in clients:
        client.start()
    held = stub_llm.wait_for_calls(3, "hold")
    time.sleep(0.3)
    assert all(call.finished_mono is None for call in held)  # nobody answered yet

    stub_llm.release()
    for client in clients:
        client.join(timeout=5)
    assert [a.json()["choices"][0]["message"]["content"] for a in answers] == ["let go"] * 3
    assert _chat(stub_llm, "hold again").status_code == 200  # released stays released
    stub_llm.reset()
    stub_llm.script("hold", Reply(held=True))
    with pytest.raises(httpx.TimeoutException):  # reset holds again
        httpx.post(
            f"{stub_llm.url}/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "hold after reset"}]},
            timeout=0.5,
        )


def test_hang_times_out_client_and_is_recorded(stub_llm: StubLLM) -> None:
    stub_llm.script("hang", Reply.timeout())
    with pytest.raises(httpx.TimeoutException):
        httpx.post(
            f"{stub_llm.url}/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "hang"}]},
            timeout=0.5,
        )
    (call,) = stub_llm.calls("hang")
    deadline = time.monotonic() + 5
    while call.finished_mono is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert call.disconnected and call.status is None


def test_stop_does_not_hang_with_request_in_flight() -> None:
    stub = StubLLM().start()
    stub.script("", Reply(hang=True))
    errors: list[BaseException] = []

    def client() -> None:
        try:
            httpx.post(f"{stub.url}/chat/completions", json={"messages": []}, timeout=30)
        except httpx.HTTPError as exc:
            errors.append(exc)

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    stub.wait_for_calls(1)
    t0 = time.monotonic()
    stub.stop()
    thread.join(timeout=10)
    assert time.monotonic() - t0 < 10  # generous: only guards against a real hang
    assert not thread.is_alive()
    assert stub.calls()[0].finished_mono is not None


def test_openai_client_compat(stub_llm: StubLLM) -> None:
    import openai

    stub_llm.script("capital", Reply("Paris"))
    client = openai.OpenAI(base_url=stub_llm.url, api_key="sk-x", max_retries=0)
    resp = client.chat.completions.create(
        model="gpt-stub", messages=[{"role": "user", "content": "capital of France?"}]
    )
    assert resp.choices[0].message.content == "Paris"
    assert resp.model == "gpt-stub"

    stream = client.chat.completions.create(
        model="gpt-stub", messages=[{"role": "user", "content": "capital?"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Paris"

    stub_llm.script("bad key", Reply.echo_key_401())
    with pytest.raises(openai.AuthenticationError, match="sk-x"):
        client.chat.completions.create(
            model="gpt-stub", messages=[{"role": "user", "content": "bad key"}]
        )
    assert stub_llm.calls("capital")[0].authorization == "Bearer sk-x"


def test_litellm_compat(stub_llm: StubLLM) -> None:
    import litellm

    stub_llm.script("ping", Reply("pong"))
    resp = litellm.completion(
        model="openai/stub",
        api_base=stub_llm.url,
        api_key="sk-x",
        messages=[{"role": "user", "content": "ping"}],
        num_retries=0,
    )
    assert resp.choices[0].message.content == "pong"
    assert stub_llm.call_count("ping") == 1
    assert stub_llm.calls("ping")[0].body["model"] == "stub"
