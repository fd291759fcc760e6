#!/usr/bin/env python3
"""Renders the committed DeepSeek chat templates with Python jinja2, configured as HF transformers'
apply_chat_template configures it (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols,
tojson = json.dumps(ensure_ascii=False), raise_exception, strftime_now, namespace, dict), and writes the expected
output of every conversation to tests/golden/chat_templates/<template>.cases.json. It also renders a list of small
feature templates (features.cases.json) that exercise the interpreter piece by piece.

Needs only jinja2 (tools/requirements-ref.txt). Run from the repository root:
    python3 tools/gen_chat_template_fixtures.py
The C++ test (tests/unit/tokenizer/chat_template_golden_test.cpp) renders the same contexts and compares bytes.
"""
import json
import os
import sys

import jinja2
import jinja2.ext
import jinja2.nodes
import jinja2.sandbox
import jinja2.utils

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.path.join(ROOT, "tests", "golden", "chat_templates")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chat_template_cases import conversations, feature_cases  # noqa: E402

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"


def make_env():
    """The environment of transformers' _cached_compile_jinja_template, minus the assistant-mask tracker."""

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        # Fixtures must be reproducible: a fixed date stands in for datetime.now().
        raise jinja2.exceptions.TemplateError("strftime_now is not used by the fixtures")

    class TemplateNamespace(jinja2.utils.Namespace):
        def __init__(*args, **kwargs):
            self, args = args[0], args[1:]
            attrs = dict(*args, **kwargs)
            for name in attrs:
                TemplateNamespace._check_name(name)
            jinja2.utils.Namespace.__init__(self, attrs)

        def __setitem__(self, name, value):
            TemplateNamespace._check_name(name)
            jinja2.utils.Namespace.__setitem__(self, name, value)

        @staticmethod
        def _check_name(name):
            if isinstance(name, str) and name.startswith("_"):
                raise jinja2.exceptions.SecurityError("underscore-prefixed namespace attribute")

    class GenerationTag(jinja2.ext.Extension):
        # HF's AssistantTracker: `{% generation %}...{% endgeneration %}` renders its body in place (the mask of
        # assistant tokens it also records is not rendered text).
        tags = {"generation"}

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
            return jinja2.nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

        def _render(self, caller):
            return caller()

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    env.globals["dict"] = lambda *a, **k: dict(*a, **k)
    env.globals["namespace"] = TemplateNamespace
    return env


def render(env, source, context):
    try:
        return {"expected": env.from_string(source).render(**context)}
    except Exception as e:  # the C++ side must fail too (message not compared)
        return {"error": f"{type(e).__name__}: {e}"}


TEMPLATES = {
    "deepseek_v3": {},
    "deepseek_r1": {},
    "deepseek_v3_0324": {},
    "deepseek_v3_1": {"thinking_variants": True},
    "deepseek_v2_chat": {},
}


def main():
    env = make_env()
    for name, opts in TEMPLATES.items():
        with open(os.path.join(DIR, name + ".jinja"), encoding="utf-8", newline="") as f:
            source = f.read()
        cases = []
        for conv_name, conv in conversations():
            for gen in (True, False, None):
                thinking_values = (None, True, False) if opts.get("thinking_variants") else (None,)
                for thinking in thinking_values:
                    # What HF's apply_chat_template passes: messages, tools, documents, add_generation_prompt, the
                    # special tokens, then the caller's kwargs. `None` for gen drops the variable entirely.
                    context = {"messages": conv["messages"], "tools": conv.get("tools"), "documents": None}
                    if gen is not None:
                        context["add_generation_prompt"] = gen
                    context.update({"bos_token": BOS, "eos_token": EOS, "pad_token": EOS})
                    if thinking is not None:
                        context["thinking"] = thinking
                    case_name = f"{conv_name}/gen={gen}" + (f"/thinking={thinking}" if thinking is not None else "")
                    cases.append({"name": case_name, "context": context, **render(env, source, context)})
        n_ok = sum("expected" in c for c in cases)
        with open(os.path.join(DIR, name + ".cases.json"), "w", encoding="utf-8") as f:
            json.dump(cases, f, ensure_ascii=False, indent=1)
            f.write("\n")
        print(f"{name}: {len(cases)} cases ({n_ok} rendered, {len(cases) - n_ok} errors)")

    cases = []
    for i, (source, context) in enumerate(feature_cases()):
        cases.append({"name": f"feature_{i}", "template": source, "context": context, **render(env, source, context)})
    with open(os.path.join(DIR, "features.cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"features: {len(cases)} cases ({sum('expected' in c for c in cases)} rendered)")


if __name__ == "__main__":
    main()
