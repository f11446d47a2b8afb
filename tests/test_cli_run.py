"""`relaydesk run` end to end: a fresh var/ dir, demo data on first start, web + worker, clean Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="checks the embedded SQLite mode")
def test_run_seeds_serves_and_stops_cleanly_on_ctrl_c(tmp_path):
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(RELAYDESK_VAR_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    log = tmp_path / "run.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "relaydesk.cli", "run", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, like a terminal's foreground job
        )
    try:
        deadline = time.monotonic() + 180
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/accounts/login/", timeout=5
                ) as response:
                    status = response.status
                    break
            except OSError:
                time.sleep(0.5)
        assert status == 200, log.read_text()[-3000:]
        output = log.read_text()
        assert f"http://127.0.0.1:{port}" in output
        assert "Demo sign-ins" in output
        children = psutil.Process(process.pid).children(recursive=True)
        assert any("worker" in " ".join(child.cmdline()) for child in children), "the job consumer runs"

        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        assert process.wait(timeout=30) == 0, log.read_text()[-3000:]
        time.sleep(0.5)
        assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
        assert "Traceback" not in log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
