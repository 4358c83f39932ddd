#!/usr/bin/env python3
"""Server memory through sign-ups (issue 13): a fresh `natter serve` on a temp SQLite
database, RSS idle, peak (VmHWM) during 40 registrations in parallel, and RSS after
200 (five bursts of 40). Prints one JSON line.

    python3 bench/signup-rss.py target/release/natter
"""
import subprocess, sys, time, json, os, tempfile, threading, http.client, socket
binary = sys.argv[1]
def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
port = free_port(); data = tempfile.mkdtemp(prefix="natter-rss.")
env = dict(os.environ, NATTER_RATE_LIMITS="off", JWT_SECRET="x"*40, NATTER_DATA_DIR=data,
           DATABASE_URL=f"sqlite://{data}/natter.db", PORT=str(port), NATTER_BIND="127.0.0.1", RUST_LOG="warn")
p = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
def status(key):
    for line in open(f"/proc/{p.pid}/status"):
        if line.startswith(key + ":"): return int(line.split()[1]) / 1024
for _ in range(100):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port); c.request("GET", "/healthz"); c.getresponse().read(); break
    except Exception: time.sleep(0.1)
time.sleep(1)
idle = status("VmRSS")
def register(i):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    body = json.dumps({"email": f"u{i}@x.invalid", "username": f"user{i:04}", "name": f"User {i}", "password": "benchpass123"})
    c.request("POST", "/api/auth/register", body, {"content-type": "application/json"})
    r = c.getresponse(); r.read(); assert r.status in (200, 201), r.status
def burst(start, n):
    ts = [threading.Thread(target=register, args=(start + i,)) for i in range(n)]
    [t.start() for t in ts]; [t.join() for t in ts]
t0 = time.time(); burst(0, 40); t40 = time.time() - t0
peak40 = status("VmHWM"); after40 = status("VmRSS")
for k in range(1, 5): burst(40 * k, 40)
time.sleep(2)
print(json.dumps({"binary": binary, "idle_mb": round(idle, 1), "peak_40_parallel_mb": round(peak40, 1),
                  "after_40_mb": round(after40, 1), "after_200_mb": round(status("VmRSS"), 1),
                  "peak_mb": round(status("VmHWM"), 1), "secs_40_parallel": round(t40, 2)}))
p.terminate(); p.wait()
subprocess.run(["rm", "-rf", data])
