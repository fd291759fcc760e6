"""Malformed and hostile requests against one api_server: each gets its status and an OpenAI-shaped error that
names the problem, and the server keeps serving (checked after the table, and after slow-loris clients)."""
import json
import socket
import time
import urllib.request

import pytest

from conftest import Processes, http_call, wait_until
from test_api_server import MODEL, launch

OK_MSG = [{"role": "user", "content": "hi"}]


def chat_body(**kw):
    body = {"model": MODEL, "messages": OK_MSG, "max_tokens": 2}
    body.update(kw)
    return body


def drop(body, key):
    body = dict(body)
    body.pop(key)
    return body


CHAT = "/v1/chat/completions"
COMP = "/v1/completions"
GEN = "/generate"

# (name, path, body: dict | bytes, expected status, text the error message must contain)
CASES = [
    ("bad json", CHAT, b"{", 400, "invalid JSON"),
    ("empty body", CHAT, b"", 400, "invalid JSON"),
    ("json array", CHAT, b"[]", 400, "JSON object"),
    ("json string", CHAT, b'"hello"', 400, "JSON object"),
    ("trailing garbage", CHAT, json.dumps(chat_body()).encode() + b"}}", 400, "invalid JSON"),
    ("deep nesting", CHAT, b"[" * 100000 + b"]" * 100000, 400, "nesting"),
    ("invalid utf-8", CHAT, b'{"model":"' + MODEL.encode() + b'","messages":[{"role":"user","content":"\xff\xfe"}]}',
     400, "invalid JSON"),
    ("huge number", CHAT, b'{"model":"%s","messages":[],"temperature":1e400}' % MODEL.encode(), 400, ""),
    ("missing model", CHAT, drop(chat_body(), "model"), 400, "model"),
    ("null model", CHAT, chat_body(model=None), 400, "model: field required"),
    ("model not string", CHAT, chat_body(model=7), 400, "model"),
    ("unknown model", CHAT, chat_body(model="gpt-9"), 404, "gpt-9"),
    ("missing messages", CHAT, drop(chat_body(), "messages"), 400, "messages: field required"),
    ("messages number", CHAT, chat_body(messages=5), 400, "messages"),
    ("messages empty", CHAT, chat_body(messages=[]), 400, "messages: must not be empty"),
    ("message not object", CHAT, chat_body(messages=["hi"]), 400, "messages[0]"),
    ("role missing", CHAT, chat_body(messages=[{"content": "x"}]), 400, "messages[0].role"),
    ("role invalid", CHAT, chat_body(messages=[{"role": "wizard", "content": "x"}]), 400, "messages[0].role"),
    ("content number", CHAT, chat_body(messages=[{"role": "user", "content": 3}]), 400, "messages[0].content"),
    ("content missing", CHAT, chat_body(messages=[{"role": "user"}]), 400, "messages[0].content"),
    ("image part", CHAT, chat_body(messages=[{"role": "user", "content": [{"type": "image_url"}]}]), 400,
     "messages[0].content[0].type"),
    ("part without text", CHAT, chat_body(messages=[{"role": "user", "content": [{"type": "text"}]}]), 400,
     "messages[0].content[0].text"),
    ("temperature string", CHAT, chat_body(temperature="hot"), 400, "temperature"),
    ("temperature negative", CHAT, chat_body(temperature=-1), 400, "temperature"),
    ("temperature huge", CHAT, chat_body(temperature=1e308), 400, "temperature"),
    ("top_p zero", CHAT, chat_body(top_p=0), 400, "top_p"),
    ("top_p above one", CHAT, chat_body(top_p=1.5), 400, "top_p"),
    ("top_k negative", CHAT, chat_body(top_k=-5), 400, "top_k"),
    ("top_k fractional", CHAT, chat_body(top_k=1.5), 400, "top_k"),
    ("min_p above one", CHAT, chat_body(min_p=2), 400, "min_p"),
    ("presence_penalty", CHAT, chat_body(presence_penalty=5), 400, "presence_penalty"),
    ("repetition_penalty zero", CHAT, chat_body(repetition_penalty=0), 400, "repetition_penalty"),
    ("max_tokens zero", CHAT, chat_body(max_tokens=0), 400, "max_tokens"),
    ("max_tokens negative", CHAT, chat_body(max_tokens=-1), 400, "max_tokens"),
    ("max_tokens huge", CHAT, chat_body(max_tokens=10**12), 400, "max_tokens"),
    ("max_tokens beyond session", CHAT, chat_body(max_tokens=10**6), 400, "session length"),
    ("max_tokens string", CHAT, chat_body(max_tokens="ten"), 400, "max_tokens"),
    ("max_completion_tokens zero", CHAT, chat_body(max_completion_tokens=0), 400, "max_completion_tokens"),
    ("n zero", CHAT, chat_body(n=0), 400, "n:"),
    ("n huge", CHAT, chat_body(n=1000), 400, "n:"),
    ("stream string", CHAT, chat_body(stream="yes"), 400, "stream"),
    ("stream_options without stream", CHAT, chat_body(stream_options={"include_usage": True}), 400, "stream_options"),
    ("include_usage string", CHAT, chat_body(stream=True, stream_options={"include_usage": "y"}), 400,
     "stream_options.include_usage"),
    ("stop number", CHAT, chat_body(stop=123), 400, "stop"),
    ("stop empty string", CHAT, chat_body(stop=[""]), 400, "stop[0]"),
    ("too many stops", CHAT, chat_body(stop=[str(i) for i in range(100)]), 400, "stop"),
    ("logprobs string", CHAT, chat_body(logprobs="true"), 400, "logprobs"),
    ("top_logprobs too many", CHAT, chat_body(logprobs=True, top_logprobs=50), 400, "top_logprobs"),
    ("top_logprobs without logprobs", CHAT, chat_body(top_logprobs=2), 400, "top_logprobs"),
    ("logit_bias bad key", CHAT, chat_body(logit_bias={"abc": 1}), 400, "logit_bias.abc"),
    ("logit_bias id out of vocab", CHAT, chat_body(logit_bias={"99999999": 1}), 400, "logit_bias"),
    ("logit_bias value", CHAT, chat_body(logit_bias={"5": 1000}), 400, "logit_bias.5"),
    ("seed string", CHAT, chat_body(seed="x"), 400, "seed"),
    ("seed fractional", CHAT, chat_body(seed=1.5), 400, "seed"),
    ("response_format schema", CHAT, chat_body(response_format={"type": "json_schema"}), 400, "response_format.type"),
    ("response_format string", CHAT, chat_body(response_format="json"), 400, "response_format"),
    ("tools not array", CHAT, chat_body(tools={"a": 1}), 400, "tools"),
    ("tool without name", CHAT, chat_body(tools=[{"type": "function", "function": {}}]), 400,
     "tools[0].function.name"),
    ("tool_choice unknown", CHAT, chat_body(tool_choice="sometimes"), 400, "tool_choice"),
    ("tool_choice names no tool", CHAT, chat_body(tools=[{"type": "function", "function": {"name": "f"}}],
                                                  tool_choice={"type": "function", "function": {"name": "g"}}),
     400, "tool_choice.function.name"),
    ("stop_token_ids out of vocab", CHAT, chat_body(stop_token_ids=[-1]), 400, "stop_token_ids[0]"),
    ("completion prompt missing", COMP, {"model": MODEL}, 400, "prompt: field required"),
    ("completion prompt number", COMP, {"model": MODEL, "prompt": 5}, 400, "prompt"),
    ("completion token out of vocab", COMP, {"model": MODEL, "prompt": [10**9]}, 400, "prompt[0]"),
    ("completion empty token list", COMP, {"model": MODEL, "prompt": [[]]}, 400, "prompt[0]"),
    ("completion mixed list", COMP, {"model": MODEL, "prompt": ["a", 5]}, 400, "prompt[1]"),
    ("completion suffix", COMP, {"model": MODEL, "prompt": "a", "suffix": "b"}, 400, "suffix"),
    ("completion logprobs too many", COMP, {"model": MODEL, "prompt": "a", "logprobs": 9}, 400, "logprobs"),
    ("generate both inputs", GEN, {"prompt": "a", "input_ids": [1]}, 400, "input_ids"),
    ("generate no input", GEN, {"max_tokens": 3}, 400, "prompt"),
    ("generate negative id", GEN, {"input_ids": [-3]}, 400, "input_ids[0]"),
    ("generate empty prompt", GEN, {"prompt": ""}, 400, "prompt"),
    ("encode bad input", "/v1/encode", {"input": 5}, 400, "input"),
    ("detokenize bad tokens", "/detokenize", {"tokens": ["a"]}, 400, "tokens[0]"),
    ("unknown route", "/v1/nothing", {}, 404, "/v1/nothing"),
    ("ten megabyte body", CHAT, b'{"model":"x","messages":"' + b"a" * (10 << 20) + b'"}', 413, ""),
]


@pytest.fixture(scope="module")
def server(fathom_bin):
    ps = Processes()
    _, base = launch(ps, fathom_bin, "--session-len", "512", "--header-timeout", "1", "--body-timeout", "1")
    yield base
    ps.cleanup()


@pytest.mark.parametrize("name,path,body,status,text", CASES, ids=[c[0] for c in CASES])
def test_hostile_request(server, name, path, body, status, text):
    got, resp, _ = http_call("POST", server + path, body)
    assert got == status, resp
    if status == 413:
        return
    assert isinstance(resp, dict) and "error" in resp, resp
    err = resp["error"]
    assert err["code"] == status and isinstance(err["type"], str) and err["message"]
    assert text in err["message"], err


def test_case_count():
    assert len(CASES) >= 40


def test_unknown_fields_are_ignored(server):
    status, resp, _ = http_call("POST", server + CHAT, chat_body(frobnicate={"x": [1, 2]}, user="u", store=False))
    assert status == 200 and resp["choices"][0]["message"]["role"] == "assistant"


def test_nul_and_control_characters_are_text(server):
    status, resp, _ = http_call("POST", server + CHAT, chat_body(messages=[{"role": "user", "content": "a\u0000b\u0007"}]))
    assert status == 200


def test_wrong_method_and_content_type(server):
    status, resp, hdrs = http_call("GET", server + CHAT)
    assert status == 405 and "POST" in hdrs["Allow"]
    req = urllib.request.Request(server + CHAT, data=json.dumps(chat_body()).encode(), method="POST",
                                 headers={"Content-Type": "text/plain"})
    try:
        urllib.request.urlopen(req, timeout=10)
        assert False, "expected 400"
    except urllib.error.HTTPError as e:
        assert e.code == 400 and "application/json" in json.loads(e.read())["error"]["message"]


def _closed_within(sock, seconds):
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
        return True
    except (socket.timeout, TimeoutError):
        return False
    except ConnectionResetError:
        return True


def test_slowloris_clients_are_cut_and_server_keeps_serving(server):
    host, port = server.removeprefix("http://").split(":")
    partial_head = [socket.create_connection((host, int(port))) for _ in range(20)]
    for s in partial_head:
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Le")
    partial_body = socket.create_connection((host, int(port)))
    partial_body.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 500\r\n\r\n{\"model\":")
    # Others are served while the slow clients hang.
    status, resp, _ = http_call("POST", server + CHAT, chat_body())
    assert status == 200
    assert all(_closed_within(s, 5) for s in partial_head)
    assert _closed_within(partial_body, 5)
    for s in partial_head + [partial_body]:
        s.close()


def test_server_still_healthy_after_table(server):
    assert http_call("GET", server + "/health")[0] == 200
    status, resp, _ = http_call("POST", server + CHAT, chat_body(max_tokens=3, ignore_eos=True))
    assert status == 200 and resp["usage"]["completion_tokens"] == 3
