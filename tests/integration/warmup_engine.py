"""Warm up one or more api_servers the way the seed's DeepSeek-V3 guide does: an OpenAI client per server,
models.list() to find the served name, then one chat request with a content-part array and 20 tokens.

    python3 warmup_engine.py --addresses 10.0.0.1:23333 10.0.0.2:23333

Exit status 0 when every server answered.
"""
import argparse
import sys

from openai import OpenAI


def warmup(address, api_key="YOUR_API_KEY"):
    client = OpenAI(api_key=api_key, base_url=f"http://{address}/v1")
    model_name = client.models.list().data[0].id
    response = client.chat.completions.create(
        model=model_name,
        messages=[{"role": "user", "content": [{"type": "text", "text": "Please introduce yourself."}]}],
        temperature=0.8,
        top_p=0.8,
        max_tokens=20,
    )
    return model_name, response


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--addresses", nargs="+", default=["127.0.0.1:23333"], help="host:port of each api_server")
    ap.add_argument("--api-key", default="YOUR_API_KEY")
    args = ap.parse_args()
    for address in args.addresses:
        model_name, response = warmup(address, args.api_key)
        print(f"{address} {model_name}: {response.choices[0].message.content!r} "
              f"({response.usage.completion_tokens} tokens, finish {response.choices[0].finish_reason})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
