"""The HTML risk report renders in a real browser: Debian's headless Chromium, started by the test.

Checks: Chromium exits cleanly, loads nothing from outside the file, logs no console error, its
DOM holds the four SVG charts, and its screenshot shows the charts' colours (so the SVG was
actually painted, not just parsed).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from erp_recovery.cli.main import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (apt-get install chromium)")

#: Fill colours of the ageing bars (erp_recovery.reports.render.charts) and the DSO line.
CHART_COLOURS = {(0x3A, 0x9B, 0x5C), (0xF2, 0xB2, 0x33), (0xE6, 0x7E, 0x22), (0x2F, 0x6D, 0xB5)}


def _chromium(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-extensions",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={cwd / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            *args,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _png_pixels(path: Path) -> tuple[int, int, int, bytes]:
    """(width, height, bytes per pixel, raw pixels) of an 8-bit non-interlaced RGB/RGBA PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat = 8, b""
    width = height = channels = 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        chunk = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and interlace == 0 and colour_type in (2, 6)
            channels = 3 if colour_type == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        position += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    out = bytearray()
    previous = bytearray(stride)
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + previous[i]) & 0xFF
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b = previous[i]
                c = previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + predictor) & 0xFF
        out += line
        previous = line
    return width, height, channels, bytes(out)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("chromium")
    assert main(["--db", str(folder / "erp-recovery-demo.sqlite"), "--quiet", "demo"]) == 0
    path = folder / "erp-recovery-demo-risk.html"
    assert path.exists()
    return path


def test_report_renders_without_errors(report: Path):
    folder = report.parent
    dom = _chromium("--dump-dom", report.as_uri(), cwd=folder)
    assert dom.returncode == 0, dom.stderr[-2000:]
    problems = [
        line
        for line in dom.stderr.splitlines()
        if re.search(r"CONSOLE|Failed to load|net::ERR|Uncaught|Refused to", line)
    ]
    assert problems == [], problems
    assert dom.stdout.count('role="img"') == 4
    for chart in ("chart-ageing", "chart-dso", "chart-exposures", "chart-scores"):
        assert f'id="{chart}"' in dom.stdout
    assert "Customer risk report: Atelier Démo SAS" in dom.stdout


def test_report_charts_are_painted(report: Path):
    folder = report.parent
    shot = folder / "shot.png"
    result = _chromium("--window-size=1200,900", f"--screenshot={shot}", report.as_uri(), cwd=folder)
    assert result.returncode == 0, result.stderr[-2000:]
    width, height, channels, pixels = _png_pixels(shot)
    assert (width, height) == (1200, 900)
    colours = set()
    for offset in range(0, len(pixels), channels * 3):
        colours.add(tuple(pixels[offset : offset + 3]))
    assert colours >= CHART_COLOURS, sorted(CHART_COLOURS - colours)
    assert len(colours) > 50  # text anti-aliasing, bars, lines: a real rendering, not a blank page
