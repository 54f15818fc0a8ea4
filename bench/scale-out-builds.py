#!/usr/bin/env python3
"""bench/scale-out-builds.py: build throughput with 1 and with 2 builder instances (issue 14).

Part of bench/scale-out, which runs it with its PostgreSQL server. A queue of 20 small builds (FROM scratch +
busybox, one RUN, 20 branches of one repository served by git daemon, each pushed to a local docker-registry)
is queued through one `serve --role intake` instance while N `serve --role builder` instances (each
builder.concurrency 1) claim from the same database; timed from the first build created to the last
finished (the builds' own timestamps), once with N = 1 and once with N = 2, each on a fresh database and a
fresh buildah storage (CONTAINERS_STORAGE_CONF, never the shared /var/lib/containers).

Usage: bench/scale-out-builds.py HOOKYARD WORK_DIR PG_SOCKET_DIR PG_PORT [--builds N]
"""
import datetime, hashlib, hmac, json, os, shutil, socket, subprocess, sys, time, urllib.request

hookyard, work, pg_sock, pg_port = sys.argv[1:5]
builds = int(sys.argv[sys.argv.index("--builds") + 1]) if "--builds" in sys.argv else 20
secret, token = "bench-secret", "bench-api-token-0123456789"
procs = []


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def wait_http(url, proc=None, log=None):
    for _ in range(3600):
        try:
            urllib.request.urlopen(url, timeout=1); return
        except Exception:
            if proc is not None and proc.poll() is not None:
                raise SystemExit(f"{url} exited: {open(log).read() if log else ''}")
            time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {url}")


def sh(*cmd, cwd=None):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def as_pg(*cmd):
    return (["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []) + list(cmd)


def start(argv, log):
    p = subprocess.Popen(argv, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    procs.append(p)
    return p


def make_repo(git_port):
    src, bare = f"{work}/src", f"{work}/git/app.git"
    os.makedirs(src); os.makedirs(f"{work}/git")
    shutil.copy("/bin/busybox", f"{src}/busybox")
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    sh("git", "init", "-q", "-b", "main", cwd=src)
    sh("git", "add", "-A", cwd=src)
    sh(*git, "commit", "-qm", "busybox", cwd=src)
    for n in range(1, builds + 1):
        # One branch per build, each its own RUN: nothing is superseded, reused or cached across them.
        sh("git", "checkout", "-q", "-b", f"b{n}", "main", cwd=src)
        with open(f"{src}/Dockerfile", "w") as f:
            f.write("FROM scratch\nCOPY busybox /bin/busybox\n"
                    f'RUN ["/bin/busybox", "sh", "-c", "echo build {n} > /version"]\n'
                    'CMD ["/bin/busybox", "cat", "/version"]\n')
        sh("git", "add", "-A", cwd=src)
        sh(*git, "commit", "-qm", str(n), cwd=src)
    sh("git", "clone", "-q", "--bare", "--mirror", src, bare)
    start(["git", "daemon", "--export-all", f"--base-path={work}/git", "--listen=127.0.0.1", f"--port={git_port}",
           "--reuseaddr"], f"{work}/git-daemon.log")
    heads = {}
    for line in subprocess.run(["git", "show-ref", "--heads"], cwd=src, capture_output=True, text=True).stdout.split("\n"):
        if line:
            sha, ref = line.split()
            heads[ref] = sha
    return heads


def config(name, port, database, reg_port, git_port, driver):
    os.makedirs(f"{work}/{name}/storage", exist_ok=True)
    with open(f"{work}/{name}/storage.conf", "w") as f:
        f.write(f'[storage]\ndriver = "{driver}"\ngraphroot = "{work}/{name}/storage/graph"\n'
                f'runroot = "{work}/{name}/storage/run"\n')
    with open(f"{work}/{name}/hookyard.yaml", "w") as f:
        f.write(f"""server: {{ listen: "127.0.0.1:{port}", webhook_secret: {secret}, api_token: {token} }}
storage: "postgresql://hookyard@/{database}?host={pg_sock}&port={pg_port}"
cluster: {{ instance_id: {name} }}
data_dir: {work}/{name}/data
builder: {{ concurrency: 1, cache: false }}
registries:
  local: {{ endpoint: "http://127.0.0.1:{reg_port}" }}
repositories:
  - github: bench/app
    registry: local
    push_repo: 127.0.0.1:{reg_port}/bench/app
    clone_url: git://127.0.0.1:{git_port}/app.git
    rules: [{{ source_type: branch, source: '/^b[0-9]+$/', tag: '{{sourceref}}' }}]
""")
    env = dict(os.environ, CONTAINERS_STORAGE_CONF=f"{work}/{name}/storage.conf")
    return f"{work}/{name}/hookyard.yaml", env


def push(port, ref, sha, n):
    body = json.dumps({"ref": ref, "before": "0" * 40, "after": sha, "deleted": False,
                       "repository": {"full_name": "bench/app"}, "pusher": {"name": "bench"},
                       "head_commit": {"id": sha, "message": str(n)},
                       "commits": [{"id": sha, "added": [], "modified": ["Dockerfile"], "removed": []}]}).encode()
    sig = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/hooks/github", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": f"bench-{n}",
        "X-Hub-Signature-256": f"sha256={sig}"})
    return json.load(urllib.request.urlopen(req, timeout=30))["builds"]


def api(port, path):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
    return json.load(urllib.request.urlopen(req, timeout=30))


def when(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def one_run(n_builders, heads, reg_port, git_port, driver):
    database = f"builds{n_builders}"
    sh(*as_pg("/usr/lib/postgresql/15/bin/createdb", "-h", pg_sock, "-p", pg_port, "-U", "hookyard", database))
    ports = [free_port() for _ in range(n_builders + 1)]
    for i, port in enumerate(ports):
        name = f"r{n_builders}-{'intake' if i == 0 else f'builder{i}'}"
        path, env = config(name, port, database, reg_port, git_port, driver)
        p = subprocess.Popen([hookyard, "serve", "-c", path, "--role", "intake" if i == 0 else "builder"], env=env,
                             stdout=open(f"{work}/{name}.log", "w"), stderr=subprocess.STDOUT)
        procs.append(p)
        # A builder answers /healthz once its pipeline runs (after its sandbox set-up): the clock starts with
        # every builder ready.
        wait_http(f"http://127.0.0.1:{port}/healthz", p, f"{work}/{name}.log")
    ids = []
    for n, (ref, sha) in enumerate(sorted(heads.items())):
        ids += push(ports[0], ref, sha, f"{n_builders}-{n}")
    while True:
        got = [api(ports[0], f"/api/v1/builds/{i}") for i in ids]
        if all(b["state"] not in ("queued", "running") for b in got):
            break
        time.sleep(0.2)
    bad = [b for b in got if b["state"] != "succeeded"]
    if bad:
        raise SystemExit(f"build {bad[0]['id']} {bad[0]['state']}: {bad[0]['error']}")
    span = max(when(b["finished_at"]) for b in got) - min(when(b["created_at"]) for b in got)
    per = {}
    for b in got:
        per[b["instance"]] = per.get(b["instance"], 0) + 1
    for p in procs[-(n_builders + 1):]:
        p.terminate(); p.wait()
    return span, per


try:
    reg_port, git_port = free_port(), free_port()
    with open(f"{work}/registry.yml", "w") as f:
        f.write(f"version: 0.1\nstorage: {{ filesystem: {{ rootdirectory: {work}/registry }} }}\n"
                f"http: {{ addr: 127.0.0.1:{reg_port} }}\n")
    start(["docker-registry", "serve", f"{work}/registry.yml"], f"{work}/registry.log")
    wait_http(f"http://127.0.0.1:{reg_port}/v2/")
    heads = make_repo(git_port)
    assert len(heads) == builds + 1, heads  # b1..bN and main
    heads.pop("refs/heads/main")
    driver = subprocess.run(["buildah", "info", "--format", "{{.store.GraphDriverName}}"], capture_output=True,
                            text=True).stdout.strip() or "vfs"
    one, per_one = one_run(1, heads, reg_port, git_port, driver)
    two, per_two = one_run(2, heads, reg_port, git_port, driver)
    print(f"build throughput, {builds} builds queued at once (first created -> last finished), "
          f"builder.concurrency 1 per instance, {os.cpu_count()} cores:")
    print(f"  1 builder:  {one:7.1f} s  ({builds / one * 60:.1f} builds/min)  per instance {per_one}")
    print(f"  2 builders: {two:7.1f} s  ({builds / two * 60:.1f} builds/min)  per instance {per_two}")
    print(f"  2 vs 1: {one / two:.2f}x the throughput")
finally:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
