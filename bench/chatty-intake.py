"""bench/chatty's intake phase: the chatty build of bench/chatty's work dir through `hookyard serve`, started
by a signed push, while signed pushes to other branches arrive at a steady rate; prints the intake p99
with no build running (5 s) and during the build, and the build stage's time as stored.

usage: python3 bench/chatty-intake.py HOOKYARD WORK_DIR COMMIT
"""
import hashlib, hmac, http.client, json, os, socket, sqlite3, subprocess, sys, threading, time

SECRET = "bench"
RATE = 20  # pushes per second while the build runs


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def signed_push(conn, n, ref, after):
    body = json.dumps({"ref": ref, "after": after, "deleted": False,
                       "repository": {"full_name": "bench/chatty", "clone_url": "https://github.com/bench/chatty.git"},
                       "head_commit": {"message": "m"}, "pusher": {"name": "p"}, "commits": []}).encode()
    sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    start = time.perf_counter()
    conn.request("POST", "/hooks/github", body=body, headers={
        "Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": f"chatty-{n}",
        "X-Hub-Signature-256": sig, "User-Agent": "GitHub-Hookshot/bench"})
    r = conn.getresponse()
    r.read()
    if r.status != 202:
        sys.exit(f"chatty-intake: push {n} answered {r.status}")
    return time.perf_counter() - start


def build_row(db):
    """(state, log text) of the build of refs/heads/main, read from the store file."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as c:
        state = c.execute("SELECT state FROM builds WHERE ref = 'refs/heads/main'").fetchone()
        log = c.execute("SELECT group_concat(data, '') FROM (SELECT data FROM build_logs WHERE build_id = "
                        "(SELECT id FROM builds WHERE ref = 'refs/heads/main') ORDER BY offset)").fetchone()
    text = (log[0] if log else None) or ""
    return (state[0] if state else ""), text.decode(errors="replace") if isinstance(text, bytes) else text


def ended(log):
    return any("stage build " + s in log for s in ("succeeded", "failed", "canceled"))


def p99(samples):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * 0.99))] * 1000 if s else 0.0


def p50(samples):
    s = sorted(samples)
    return s[len(s) // 2] * 1000 if s else 0.0


def timed_pushes(port, seconds, first):
    """Pushes at RATE for `seconds` with no build running: the baseline."""
    stop, latencies = threading.Event(), []
    threading.Timer(seconds, stop.set).start()
    pushes_until(port, stop, latencies, first)
    return latencies


def pushes_until(port, stop, latencies, first=100000):
    conn, n, next_at = http.client.HTTPConnection("127.0.0.1", port, timeout=30), first, time.monotonic()
    while not stop.is_set():
        n += 1
        latencies.append(signed_push(conn, n, f"refs/heads/p{n}", "%040x" % n))
        next_at += 1.0 / RATE
        time.sleep(max(0.0, next_at - time.monotonic()))


def main():
    hookyard, work, commit = sys.argv[1:4]
    port = free_port()
    config = os.path.join(work, "serve.yaml")
    with open(config, "w") as f:
        f.write(open(os.path.join(work, "hookyard.yaml")).read()
                .replace("server: { webhook_secret: bench }",
                         f'server: {{ listen: "127.0.0.1:{port}", webhook_secret: {SECRET}, rate_limit: 0 }}')
                .replace("/data\n", "/serve-data\n")
                .replace("rules: [{ source_type: branch, source: main, tag: latest }]",
                         "rules: [{ source_type: branch, source: main, tag: latest }, "
                         "{ source_type: branch, source: '/^p[0-9]+$/', tag: p }]"))
    os.makedirs(os.path.join(work, "serve-data"), exist_ok=True)
    log = open(os.path.join(work, "serve.log"), "w")
    serve = subprocess.Popen([hookyard, "serve", "-c", config], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(2400):  # up to two minutes: start-up probes the sandbox
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit("chatty-intake: serve did not listen within 2 minutes")
        idle = timed_pushes(port, 5, 0)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        signed_push(conn, 0, "refs/heads/main", commit)
        db = os.path.join(work, "serve-data", "hookyard.db")
        deadline = time.monotonic() + 600
        while build_row(db)[0] in ("", "queued") and time.monotonic() < deadline:
            time.sleep(0.05)
        stop, latencies = threading.Event(), []
        sender = threading.Thread(target=pushes_until, args=(port, stop, latencies))
        sender.start()
        state, text = build_row(db)
        while state == "running" and not ended(text) and time.monotonic() < deadline:
            time.sleep(0.1)
            state, text = build_row(db)
        stop.set()
        sender.join()
        stage = [w for w in text.splitlines() if ended(w)]
        during = p99(latencies)
        verdict = "within target" if during <= 20 else "OVER target"
        print(f"intake p50/p99 at {RATE} pushes/s (serve): idle {p50(idle):.2f}/{p99(idle):.2f} ms ({len(idle)} "
              f"pushes), during the build {p50(latencies):.2f}/{during:.2f} ms ({len(latencies)} pushes; p99 target "
              f"<= 20 ms: {verdict}); "
              f"{stage[-1] if stage else 'build stage did not end: ' + state}")
    finally:
        serve.terminate()
        serve.wait(60)


if __name__ == "__main__":
    main()
