"""What the browser tests need (tests/browser: hls.js and playwright-core from `npm ci`, Debian's
chromium, node): the folder of the scripts, and a skip when the machine has no browser."""
import shutil
from pathlib import Path

import pytest

BROWSER_DIR = Path(__file__).resolve().parents[1] / "browser"
CHROMIUM = Path("/usr/bin/chromium")


def browser_or_skip():
    if not shutil.which("node"):
        pytest.skip("node is not installed")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    for module in ("playwright-core", "hls.js"):
        if not (BROWSER_DIR / "node_modules" / module).exists():
            pytest.fail(f"{module} missing: run npm ci --prefix tests/browser", pytrace=False)
