"""The pages' web command (config.webserver) spreads connections over its workers.

Keep-alive connections stay with the worker that accepted them (the load balancer keeps its
connections to a task open for minutes). With one listening socket shared by the workers, the
first to wake accepted a whole burst alone: in the page benchmark one worker of two served all
16 connections while the other idled, in about one run of three. With a socket per worker
(SO_REUSEPORT) the kernel spreads them: the chance that 16 new connections all land on one of
two workers is 2 in 65,536 a burst.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONNECTIONS = 16
ROUNDS = 8
REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(sock: socket.socket) -> str:
    sock.sendall(REQUEST)
    return _answer(sock)


def _answer(sock: socket.socket) -> str:
    data = b""
    while b"\r\n\r\n" not in data or not data.split(b"\r\n\r\n", 1)[1]:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n\r\n", 1)[1].decode()


def _wait_ready(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "the web server exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                _get(sock)
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the web server did not answer within 60 s")


def test_keep_alive_connections_are_spread_over_the_workers(tmp_path):
    from config import webserver

    port = _free_port()
    argv = webserver.command(
        app="tests.support.pid_wsgi:application", host="127.0.0.1", port=port, workers=2
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)])}
    with (tmp_path / "server.log").open("wb") as log:
        server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(port, server)
        time.sleep(1)  # both workers listening (the first answer came from one of them)
        # Bursts of new connections, each sending its request at once, as wrk or a load
        # balancer opens them; then the same connections again, kept alive.
        rounds = []
        for _ in range(ROUNDS):
            sockets = []
            try:
                for _ in range(CONNECTIONS):
                    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                    sock.sendall(REQUEST)
                    sockets.append(sock)
                first = [_answer(sock) for sock in sockets]
                again = [_get(sock) for sock in sockets]
            finally:
                for sock in sockets:
                    sock.close()
            assert again == first  # a kept-alive connection stays with its worker
            rounds.append(sorted(first.count(pid) for pid in set(first)))
    finally:
        server.terminate()
        server.wait(timeout=30)
    # Every burst reached both workers (a round of [16] is one worker alone).
    assert all(len(counts) == 2 for counts in rounds), rounds
