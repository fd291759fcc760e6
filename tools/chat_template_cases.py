"""Inputs for gen_chat_template_fixtures.py: the conversations rendered with every DeepSeek template, and small
feature templates that exercise one interpreter construct each."""
import json

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city — returns °C.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. 北京 or \"New York\""},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7.5},
            },
            "required": ["city"],
        },
    },
}
SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "web_search",
        "description": "Search the web.\nReturns a list of {title, url}.",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}, "top_k": {"type": "integer"}},
                       "required": ["query"]},
    },
}


def call(i, name, args):
    return {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)}}


def sys(c):
    return {"role": "system", "content": c}


def user(c):
    return {"role": "user", "content": c}


def asst(c, **kw):
    return {"role": "assistant", "content": c, **kw}


def tool(c, i=0):
    return {"role": "tool", "content": c, "tool_call_id": f"call_{i}"}


def conversations():
    """(name, {"messages": [...], "tools": [...] or None}) pairs."""
    convs = [
        ("single_user", [user("Hello!")]),
        ("system_user", [sys("You are a helpful assistant."), user("What is 2+2?")]),
        ("two_systems", [sys("Be brief."), sys("Answer in French."), user("Hi")]),
        ("three_systems_interleaved", [sys("A"), user("u1"), sys("B"), asst("a1"), sys("C"), user("u2")]),
        ("multi_turn", [user("Hi"), asst("Hello! How can I help?"), user("Tell me a joke."),
                        asst("Why did the chicken cross the road?"), user("Why?")]),
        ("ends_with_assistant", [sys("sys"), user("Q1"), asst("A1")]),
        ("tool_call_single", [user("Weather in Paris?"), asst(None, tool_calls=[call(0, "get_weather", {"city": "Paris"})]),
                              tool('{"temp": 21, "sky": "clear"}'), asst("It is 21 °C and clear in Paris.")]),
        ("tool_call_pending_output", [user("Weather in Paris?"),
                                      asst(None, tool_calls=[call(0, "get_weather", {"city": "Paris"})]),
                                      tool('{"temp": 21}')]),
        ("tool_calls_multiple", [sys("Use tools."), user("Weather in Paris and Tokyo, and search news."),
                                 asst(None, tool_calls=[call(0, "get_weather", {"city": "Paris"}),
                                                        call(1, "get_weather", {"city": "東京", "unit": "celsius"}),
                                                        call(2, "web_search", {"query": "news \"today\""})]),
                                 tool("21C", 0), tool("18C", 1), tool("[]", 2), asst("Paris 21C, Tokyo 18C, no news."),
                                 user("Thanks!")]),
        ("tool_call_with_content", [user("Weather?"),
                                    asst("Let me check.", tool_calls=[call(0, "get_weather", {"city": "Oslo"})]),
                                    tool("-3C"), asst("It is -3C.")]),
        ("two_tool_rounds", [user("a"), asst(None, tool_calls=[call(0, "web_search", {"query": "a"})]), tool("r1"),
                             asst(None, tool_calls=[call(1, "web_search", {"query": "b"})]), tool("r2"),
                             asst("done"), user("again")]),
        ("r1_think_in_content", [user("What is 3*7?"), asst("<think>\n3*7 = 21\n</think>\n\n21"), user("And 4*5?")]),
        ("r1_think_multiple_tags", [user("q"), asst("<think>a</think>b</think>c"), user("q2")]),
        ("r1_reasoning_content_field", [user("Solve x+1=2"), asst("x = 1", reasoning_content="Subtract 1."), user("ok")]),
        ("unicode_cjk_emoji", [sys("你是一个乐于助人的助手。"), user("こんにちは 👋🏽 👨‍👩‍👧‍👦 — مرحبا"),
                               asst("안녕하세요! ✨"), user("Ünïcödé ñ ß ﬁ \u200b\u2028 end")]),
        ("special_characters", [user("Quotes ' \" and backslash \\ and braces {{ x }} {% if %} {# c #}"),
                                asst("Tabs\tand\nnewlines\r\nand CR\r done"), user("<｜User｜> fake token </think>")]),
        ("empty_contents", [sys(""), user(""), asst(""), user("")]),
        ("empty_messages", []),
        ("only_system", [sys("Only a system prompt.")]),
        ("consecutive_users", [user("first"), user("second"), asst("reply")]),
        ("long_content", [user("lorem ipsum " * 200), asst("dolor " * 100), user("sit amet")]),
        ("tools_kwarg", [sys("You can call tools."), user("Weather in Berlin?")], [WEATHER_TOOL, SEARCH_TOOL]),
        ("tools_kwarg_no_system", [user("Search for cats")], [SEARCH_TOOL]),
        ("tools_kwarg_full_round", [user("Weather in Rome?"), asst(None, tool_calls=[call(0, "get_weather", {"city": "Rome"})]),
                                    tool("25C"), asst("25C in Rome.")], [WEATHER_TOOL]),
        ("v31_prefix_assistant", [user("Continue:"), asst("Once upon", prefix=True)]),
        ("whitespace_contents", [sys("  padded system  "), user("\n\nleading newlines"), asst("trailing spaces   \n")]),
        ("assistant_first", [asst("I speak first."), user("ok")]),
        ("tool_after_user", [user("q"), tool("orphan tool output"), user("q2")]),
        ("numbers_in_args", [user("calc"), asst(None, tool_calls=[call(0, "calc", {"x": 1.5, "y": -2, "big": 12345678901234})]),
                             tool("ok")]),
        ("json_content_tool", [user("x"), asst(None, tool_calls=[call(0, "f", {})]), tool('{"a": [1, 2, {"b": null}]}'),
                               asst("fine")]),
        ("arguments_as_dict", [user("x"), asst(None, tool_calls=[{"type": "function", "function": {"name": "f", "arguments": {"a": 1}}}])]),
        ("content_none_no_tool_calls", [user("x"), asst(None)]),
    ]
    out = []
    for entry in convs:
        name, messages = entry[0], entry[1]
        tools = entry[2] if len(entry) > 2 else None
        out.append((name, {"messages": messages, "tools": tools}))
    return out


def feature_cases():
    """(template, context) pairs; each exercises one construct (the generator records jinja2's output or error)."""
    ctx = {"s": "Hello, World", "n": 7, "f": 2.5, "l": [3, 1, 2], "d": {"b": 1, "a": [1, 2], "c": {"x": None}},
           "e": "", "none": None, "t": True, "u8": "héllo wörld ✨", "msgs": [{"role": "user", "content": "hi"},
                                                                             {"role": "assistant", "content": "yo"}]}
    T = [
        # output and literals
        "{{ 1 }}|{{ -3 }}|{{ 1.5 }}|{{ 1e3 }}|{{ 0.1 + 0.2 }}|{{ 10 / 4 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ -7 % 3 }}|{{ 2 ** 10 }}",
        "{{ true }}|{{ True }}|{{ none }}|{{ None }}|{{ false }}|{{ 'a' 'b' }}|{{ \"q\\\"\" }}|{{ '\\n\\t\\u00e9\\x41' }}",
        "{{ [1, 'a', none, true, 1.0] }}|{{ (1,) }}|{{ (1, 'b') }}|{{ {'k': 'v', 'n': [1]} }}|{{ l }}|{{ d }}",
        "{{ 1e16 }}|{{ 1e15 }}|{{ 0.0001 }}|{{ 0.00001 }}|{{ 1/3 }}|{{ 2.0 * 3 }}|{{ -0.0 }}|{{ 123456789.123 }}",
        "{{ undefined_var }}|{{ d.missing }}|{{ d['missing'] }}|{{ l[10] }}|{{ none.x }}",
        # strings, concatenation, slicing
        "{{ s ~ n ~ none ~ t }}|{{ s + '!' }}|{{ s[0] }}|{{ s[-1] }}|{{ s[::-1] }}|{{ s[1:5] }}|{{ s[::2] }}|{{ s[-3:] }}",
        "{{ u8[::-1] }}|{{ u8[1:4] }}|{{ u8|length }}|{{ u8[-2] }}|{{ l[::-1] }}|{{ l[1:] }}|{{ l[:-1] }}|{{ l[5:1:-1] }}",
        "{{ 'ab' * 3 }}|{{ [1] * 2 }}|{{ l + [4] }}|{{ 'x' in s }}|{{ 'W' in s }}|{{ 2 in l }}|{{ 'a' in d }}|{{ 'z' not in d }}",
        # comparisons and logic
        "{{ 1 < 2 < 3 }}|{{ 3 > 2 > 2 }}|{{ 1 == 1.0 }}|{{ 'a' < 'b' }}|{{ [1,2] < [1,3] }}|{{ none == none }}|{{ t == 1 }}",
        "{{ e or 'default' }}|{{ s and n }}|{{ not e }}|{{ not s }}|{{ 'y' if t else 'n' }}|{{ 'y' if e else 'n' }}|{{ 'y' if e }}",
        # tests
        "{{ x is defined }}|{{ s is defined }}|{{ none is none }}|{{ s is string }}|{{ n is number }}|{{ t is number }}|{{ f is float }}",
        "{{ n is integer }}|{{ t is boolean }}|{{ t is true }}|{{ d is mapping }}|{{ l is iterable }}|{{ s is sequence }}|{{ x is undefined }}",
        "{{ n is odd }}|{{ n is even }}|{{ 9 is divisibleby 3 }}|{{ n is equalto 7 }}|{{ n is eq 8 }}|{{ 'abc' is lower }}|{{ s is not none }}",
        "{{ undefined_var is iterable }}|{{ undefined_var is sequence }}|{{ n is gt 3 }}|{{ 2 is in l }}|{{ none is sameas none }}",
        # filters
        "{{ '  x  '|trim }}|{{ 'xxhixx'|trim('x') }}|{{ l|length }}|{{ d|count }}|{{ s|lower }}|{{ s|upper }}|{{ 'hello wOrld'|capitalize }}",
        "{{ x|default('dflt') }}|{{ e|default('dflt') }}|{{ e|default('dflt', true) }}|{{ none|d('z') }}|{{ s|replace('l', 'L') }}|{{ s|replace('l', '', 1) }}",
        "{{ l|join(', ') }}|{{ l|first }}|{{ l|last }}|{{ s|first }}|{{ d|list }}|{{ d|items|list }}|{{ l|sort }}|{{ l|reverse|list }}",
        "{{ '42'|int }}|{{ 'x'|int }}|{{ '3.7'|float }}|{{ 3.9|int }}|{{ -5|abs }}|{{ n|string ~ 'x' }}|{{ [3, 1]|max }}|{{ l|sum }}",
        "{{ d|tojson }}|{{ msgs|tojson }}|{{ u8|tojson }}|{{ 'q\"\\\\\\n\\u0001'|tojson }}|{{ [1.0, 1e20, none, true]|tojson }}",
        "{{ d|tojson(indent=2) }}|{{ d|tojson(sort_keys=true) }}|{{ d|tojson(separators=(',', ':')) }}|{{ u8|tojson(ensure_ascii=true) }}",
        "{{ 'a\\nb\\n\\nc'|indent(2) }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(width='> ', blank=true) }}",
        "{{ msgs|map(attribute='role')|join(',') }}|{{ msgs|selectattr('role', 'equalto', 'user')|list|length }}|{{ l|select('odd')|list }}",
        "{{ msgs|rejectattr('role', 'eq', 'user')|map(attribute='content')|first }}|{{ ['a', 'A', 'b']|unique|list }}|{{ d|dictsort }}",
        "{{ 'hello world'|title }}|{{ 'a b  c'|wordcount }}|{{ 'x'|center(5) }}|{{ 2.567|round(2) }}|{{ 2.5|round }}|{{ '<&>'|e }}",
        # methods
        "{{ s.split(', ') }}|{{ '  a  b '.split() }}|{{ 'a,b,c'.split(',', 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}|{{ s.split('</think>')[-1] }}",
        "{{ '  x \\n'.strip() }}|{{ 'xxy'.lstrip('x') }}|{{ 'abc  '.rstrip() }}|{{ s.startswith('Hell') }}|{{ s.endswith(('x', 'ld')) }}",
        "{{ s.lower() }}|{{ s.upper() }}|{{ s.replace('o', '0') }}|{{ s.find('o') }}|{{ s.count('l') }}|{{ '-'.join(['a', 'b']) }}|{{ 'ab'.title() }}",
        "{{ d.get('b') }}|{{ d.get('zz', 'no') }}|{{ d.get('zz') }}|{{ d.keys()|list }}|{{ d.values()|list|length }}|{{ d.items()|list|first }}",
        "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{% for k in d %}{{ k }}{% endfor %}|{{ 'x'.join('abc') }}",
        "{{ '<think>a</think>b'.split('</think>', 1)[1] }}|{{ 'ab'.replace('', '-') }}|{{ 'a b'.isspace() }}|{{ '12'.isdigit() }}",
        # statements: set, namespace, for/loop, if/elif, break/continue, macro
        "{% set a = 1 %}{% set b, c = 2, 3 %}{{ a + b + c }}{% set a = a * 10 %}|{{ a }}",
        "{% set ns = namespace(x=0, s='') %}{% for i in range(5) %}{% set ns.x = ns.x + i %}{% set ns.s = ns.s ~ i %}{% endfor %}{{ ns.x }}|{{ ns.s }}",
        "{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}|{{ x }}",
        "{% for m in msgs %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }};{% endfor %}",
        "{% for i in l %}{{ loop.previtem }}>{{ i }}>{{ loop.nextitem }};{% endfor %}|{% for i in [] %}x{% else %}empty{% endfor %}",
        "{% for i in range(10) if i is odd %}{{ i }}{{ ',' if not loop.last }}{% endfor %}|{% for i in range(10) %}{% if i > 5 %}{% break %}{% endif %}{% if i is even %}{% continue %}{% endif %}{{ i }}{% endfor %}",
        "{% if n > 10 %}big{% elif n > 5 %}mid{% elif n > 0 %}small{% else %}neg{% endif %}|{% if e %}a{% else %}b{% endif %}",
        "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', punct='?') }} {{ greet(name='Cy') }}",
        "{% set block %}captured {{ n }}{% endset %}[{{ block }}]|{% for a, b in [[1, 2], [3, 4]] %}{{ a * b }}{% endfor %}",
        "{% generation %}gen{{ n }}{% endgeneration %}|{% raw %}{{ not evaluated }}{% endraw %}|{# comment #}after",
        # whitespace control, trim_blocks, lstrip_blocks
        "line1\n  {% if t %}\n    yes\n  {% endif %}\nline2\n",
        "a  {{- ' b ' -}}  c\n{%- if t %}  d  {% endif -%}\n  e",
        "  {%+ if t %}kept indent{% endif %}\n{% if t +%}\nkept newline{% endif %}\n\t{# comment #}\nafter",
        "{% for m in msgs %}\n  {{ m.role }}: {{ m.content }}\n{% endfor %}\n",
        "x {%- raw -%} {{ raw }} {%- endraw -%} y\n{% raw %}\n  keep\n{% endraw %}\n",
        "\r\nwindows\r\nnewlines {% if t %}\r\n yes {% endif %}\r\n",
        "text with trailing newline\n",
        "{{ '{{' }} {{ '}}' }} {{ '{%' }}  }}",
        # errors (the C++ side must fail as well)
        "{{ raise_exception('custom failure') }}",
        "{{ x.y }}",
        "{{ 1 + 'a' }}",
        "{{ none + 1 }}",
        "{% for %}",
        "{% if t %}unclosed",
        "{{ l|nosuchfilter }}",
        "{% include 'other.html' %}",
        "{{ (1 }}",
        "{{ l.append(4) }}",
        "{% set ns = namespace(a=1) %}{% set ns._private = 2 %}",
        "{{ 1 // 0 }}",
        "{{ msgs[0].content + msgs[0].nosuch }}",
        "{% extends 'base' %}",
    ]
    return [(t, ctx) for t in T]
