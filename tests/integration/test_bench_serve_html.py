"""The HTML report renders in headless Chromium: the charts are in the rendered DOM and the screenshot is not
blank. Skipped when no chromium binary is installed (Debian package `chromium`)."""
import os
import re
import shutil
import struct
import subprocess
import zlib

import numpy
import pytest

from bench_serve_helpers import random_args, run_bench, start_fake


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit truecolour PNG, decoded with zlib only."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


@pytest.mark.skipif(chromium() is None, reason="no chromium binary (apt-get install chromium) for the screenshot")
def test_html_report_renders_in_headless_chromium(fathom_bin, procs, tmp_path):
    port = start_fake(procs, "--ttft", "0.05", "--itl", "0.01", "--fail-every", "10")
    report = tmp_path / "report.html"
    run_bench(fathom_bin, port, tmp_path, "--disable-warmup", "--report", str(report), "--max-concurrency", "8",
              *random_args(40, 16, 12))
    url = report.as_uri()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}"]
    env = dict(os.environ, HOME=str(tmp_path))
    dom = subprocess.run([chromium(), *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120, env=env)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert len(re.findall(r"<svg", dom.stdout)) == 4
    assert len(re.findall(r'class="bar"', dom.stdout)) == 80  # two 40-bin histograms
    assert "injected failure" in dom.stdout  # the failures are on the page
    shot = tmp_path / "shot.png"
    r = subprocess.run([chromium(), *flags, f"--screenshot={shot}", "--window-size=1280,1800", url],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0 and shot.exists(), r.stderr[-2000:]
    width, height, bpp, rows = png_pixels(shot)
    assert (width, height) == (1280, 1800)
    # The histograms' bar colour (#4878d0) and the throughput line's (#d65f5f) are painted.
    px = numpy.frombuffer(b"".join(rows), dtype=numpy.uint8).reshape(height, width, bpp)[:, :, :3].astype(int)

    def count(rgb):
        return int((numpy.abs(px - numpy.array(rgb)).max(axis=2) < 12).sum())

    blue, red = count((0x48, 0x78, 0xD0)), count((0xD6, 0x5F, 0x5F))
    assert blue > 2000, blue
    assert red > 200, red
