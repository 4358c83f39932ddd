"""Interop of the realtime engine with python-socketio's client, against the
`conformance` binary (`/interop` namespace).

The binary: $NATTER_CONFORMANCE_BIN, default $CARGO_TARGET_DIR/debug/conformance
(or <repo>/target/debug/conformance).
"""

import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import socketio

REPO = Path(__file__).resolve().parents[2]


def conformance_bin() -> str:
    if os.environ.get("NATTER_CONFORMANCE_BIN"):
        return os.environ["NATTER_CONFORMANCE_BIN"]
    target = os.environ.get("CARGO_TARGET_DIR") or str(REPO / "target")
    return str(Path(target) / "debug" / "conformance")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = dict(
        os.environ,
        PORT=str(port),
        PING_INTERVAL_MS="2000",
        PING_TIMEOUT_MS="2000",
        CONNECT_TIMEOUT_MS="5000",
    )
    proc = subprocess.Popen(
        [conformance_bin()], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "listening" in line, line
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def make_client(**kw) -> socketio.Client:
    return socketio.Client(reconnection=False, **kw)


def wait_for(pred, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.01)
    return False


@pytest.mark.parametrize("transports", [["websocket"], ["polling"], ["polling", "websocket"]])
def test_connect_events_acks_binary(server, transports):
    sio = make_client()
    welcome = []
    questions = []
    echoes = []
    sio.on("welcome", welcome.append, namespace="/interop")
    sio.on("echo", lambda *args: echoes.append(args), namespace="/interop")

    @sio.on("question", namespace="/interop")
    def question(q):
        questions.append(q)
        return {"answer": q * 2}

    sio.connect(
        server,
        namespaces=["/interop"],
        auth={"token": "secret", "name": "py"},
        transports=transports,
        wait_timeout=5,
    )
    try:
        assert wait_for(lambda: welcome), "welcome emitted from connect arrives"
        assert welcome[0]["name"] == "py"
        if transports == ["polling", "websocket"]:
            assert wait_for(lambda: sio.transport() == "websocket"), "upgraded"
        else:
            assert sio.transport() == transports[0]

        # client -> server with ack
        assert sio.call("echo", {"a": 1}, namespace="/interop", timeout=5) == {"a": 1}
        # event both ways
        sio.emit("echo", "hello", namespace="/interop")
        assert wait_for(lambda: echoes), "echo event back"
        assert echoes[0] == ("hello",)
        # server -> client with ack
        res = sio.call("ask-client", 21, namespace="/interop", timeout=5)
        assert res == {"ok": True, "args": [{"answer": 42}]}
        assert questions == [21]
        # binary
        blob = bytes([0, 1, 2, 253, 254, 255])
        back = sio.call("echo", {"file": blob, "n": 1}, namespace="/interop", timeout=5)
        assert back == {"file": blob, "n": 1}
    finally:
        sio.disconnect()


def test_auth_failure(server):
    sio = make_client()
    errors = []
    sio.on("connect_error", errors.append, namespace="/interop")
    with pytest.raises(socketio.exceptions.ConnectionError) as err:
        sio.connect(
            server,
            namespaces=["/interop"],
            auth={"token": "nope"},
            transports=["websocket"],
            wait_timeout=5,
        )
    assert "/interop" in str(err.value)
    assert wait_for(lambda: errors)
    assert "bad token" in str(errors[0])


def test_rooms_and_broadcast_except(server):
    got = {"a": [], "b": []}
    clients = {}
    for name in ("a", "b"):
        c = make_client()
        c.on("broadcast", got[name].append, namespace="/interop")
        c.connect(
            server,
            namespaces=["/interop"],
            auth={"token": "secret", "name": name, "room": "py-room"},
            transports=["websocket"],
            wait_timeout=5,
        )
        clients[name] = c
    try:
        res = clients["a"].call(
            "broadcast-except", {"room": "py-room", "data": 7}, namespace="/interop", timeout=5
        )
        assert res == {"ok": True, "members": 2}
        assert wait_for(lambda: got["b"])
        time.sleep(0.2)
        assert got["b"] == [{"from": "a", "data": 7}]
        assert got["a"] == []
    finally:
        for c in clients.values():
            c.disconnect()


def test_two_namespaces(server):
    sio = make_client()
    backs = []
    sio.on("message-back", lambda *a: backs.append(a), namespace="/")
    sio.connect(
        server,
        namespaces=["/", "/interop"],
        auth={"token": "secret"},
        transports=["websocket"],
        wait_timeout=5,
    )
    try:
        sio.emit("message", [1, "2"], namespace="/")
        assert wait_for(lambda: backs)
        assert backs[0] == ([1, "2"],)
        assert sio.call("echo", "x", namespace="/interop", timeout=5) == "x"
    finally:
        sio.disconnect()


def test_emit_in_connect_handler_is_delivered(server):
    for i in range(50):
        sio = make_client()
        acked = []

        @sio.on("connect", namespace="/interop")
        def on_connect(i=i, sio=sio, acked=acked):
            sio.emit("join", f"room-{i}", namespace="/interop", callback=lambda r: acked.append(r))

        sio.connect(
            server,
            namespaces=["/interop"],
            auth={"token": "secret"},
            transports=["websocket"],
            wait_timeout=5,
        )
        try:
            assert wait_for(lambda: acked), f"run {i}: the ack for the connect-time emit"
            assert acked[0]["rooms"] == [f"room-{i}"]
        finally:
            sio.disconnect()
