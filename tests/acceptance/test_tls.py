"""`conveyor serve --tls-cert --tls-key` serves HTTPS (clients such as netapp-ontap default to it)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from tests.acceptance.conftest import CONVEYOR, ROOT, System, free_port
from tests.helpers import wait_until


def test_serve_https_with_a_certificate(system: System, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    port = free_port()
    args = ["serve", "--port", str(port), "--database", system.database_url, "--no-worker"]
    log = open(tmp_path / "tls.log", "wb")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(
        [CONVEYOR, *args, "--tls-cert", str(cert), "--tls-key", str(key)], cwd=ROOT, env=system.env,
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    system.procs.append(proc)

    def answers() -> bool:
        try:
            return (
                httpx.get(f"https://127.0.0.1:{port}/api/v1/health", verify=False, timeout=1).status_code
                == 200
            )
        except httpx.HTTPError:
            return False

    wait_until(answers, timeout=30, interval=0.1, what="the HTTPS server")
    try:
        httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
        plain_refused = False
    except httpx.HTTPError:
        plain_refused = True
    assert plain_refused  # it speaks TLS only
