"""--reasoning-parser deepseek-r1 and --tool-call-parser deepseek-v3 on the tiny model. Random weights never
write "</think>" by themselves, so logit_bias pins generation to the pieces of "</think>" (and nothing else):
the raw reply then holds the tag at seed-dependent places, and /generate (which applies no parser) gives the raw
text of the same prompt ids and seed to check the split against."""
import pytest

from conftest import Processes, http_call
from test_api_server import MODEL, launch

openai = pytest.importorskip("openai")


@pytest.fixture(scope="module")
def server(fathom_bin):
    ps = Processes()
    _, base = launch(ps, fathom_bin, "--reasoning-parser", "deepseek-r1", "--tool-call-parser", "deepseek-v3")
    yield base
    ps.cleanup()


def ids_of(server, text):
    status, r, _ = http_call("POST", server + "/tokenize", {"prompt": text, "add_special_tokens": False})
    assert status == 200
    return r["tokens"]


def test_reasoning_split_matches_raw_text(server):
    client = openai.OpenAI(base_url=server + "/v1", api_key="x", max_retries=0)
    messages = [{"role": "user", "content": "think"}]
    bias = {str(i): 100 for i in ids_of(server, "</think>")}  # 3 pieces: the tag appears at random places
    status, prompt, _ = http_call("POST", server + "/tokenize", {"messages": messages})
    assert status == 200
    checked_split = 0
    for seed in range(1, 13):
        if checked_split == 2:
            break
        kw = dict(seed=seed, temperature=1.0, max_tokens=32, logit_bias=bias)
        status, raw, _ = http_call("POST", server + "/generate",
                                   {"input_ids": prompt["tokens"], "ignore_eos": True, **kw})
        assert status == 200
        raw = raw["text"]
        r = client.chat.completions.create(model=MODEL, messages=messages, extra_body={"ignore_eos": True}, **kw)
        msg = r.choices[0].message
        reasoning = getattr(msg, "reasoning_content", None) or ""
        content = msg.content or ""
        if "</think>" in raw:
            cut = raw.index("</think>")
            assert reasoning == raw[:cut] and content == raw[cut + len("</think>"):]
            checked_split += 1
        else:
            assert reasoning == raw and content == ""
            continue
        # Streamed: the same split, delta by delta.
        chunks = list(client.chat.completions.create(model=MODEL, messages=messages, stream=True,
                                                     extra_body={"ignore_eos": True}, **kw))
        s_reason = "".join(getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks)
        s_content = "".join(c.choices[0].delta.content or "" for c in chunks)
        assert (s_reason, s_content) == (reasoning, content)
    assert checked_split > 0


def test_tools_are_accepted_with_the_parser(server):
    client = openai.OpenAI(base_url=server + "/v1", api_key="x", max_retries=0)
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                                               "parameters": {"type": "object",
                                                              "properties": {"city": {"type": "string"}}}}}]
    r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "weather?"}], tools=tools,
                                       max_tokens=4, extra_body={"ignore_eos": True})
    assert r.choices[0].finish_reason == "length" and not r.choices[0].message.tool_calls
    # A conversation that carries an earlier call and its result renders through the template.
    history = [{"role": "user", "content": "weather?"},
               {"role": "assistant", "content": None,
                "tool_calls": [{"id": "call_1", "type": "function",
                                "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
               {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]
    r = client.chat.completions.create(model=MODEL, messages=history, tools=tools, max_tokens=2)
    assert r.usage.prompt_tokens > 20
    status, toks, _ = http_call("POST", server + "/tokenize", {"messages": history})
    assert status == 200 and toks["count"] == r.usage.prompt_tokens
