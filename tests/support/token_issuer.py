#!/usr/bin/env python3
"""A tiny Docker registry token service for tests (distribution's token auth, RS256 JWTs).

usage: token_issuer.py PORT KEY_PEM CERT_PEM ISSUER USER PASSWORD READ_ONLY_PREFIX

GET /token?service=S&scope=repository:NAME:pull,push&... with Basic USER:PASSWORD returns
{"token", "access_token", "expires_in"}; wrong credentials get 401. Requested actions are granted, except
that repositories starting with READ_ONLY_PREFIX only get "pull". The JWT header's "kid" is the libtrust
key id of the certificate's public key, which is how distribution 2.8 finds the key in rootcertbundle.
Signing uses the openssl CLI, so only the Python standard library is needed. One line per issued token
("issued <sub> <scopes>") goes to stdout.
"""
import base64, hashlib, http.server, json, os, subprocess, sys, time, urllib.parse

PORT, KEY, CERT, ISSUER, USER, PASSWORD, READ_ONLY = sys.argv[1:8]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_key_id():
    pub = subprocess.run(["openssl", "x509", "-in", CERT, "-pubkey", "-noout"], check=True,
                         capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, check=True,
                         capture_output=True).stdout
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i:i + 4] for i in range(0, len(encoded), 4))


KID = libtrust_key_id()


def sign(claims):
    header = {"typ": "JWT", "alg": "RS256", "kid": KID}
    signing_input = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY], input=signing_input, check=True,
                         capture_output=True).stdout
    return signing_input.decode() + "." + b64url(sig)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path != "/token":
            return self.reply(404, {"error": "not found"})
        auth = self.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if auth != expected:
            return self.reply(401, {"error": "invalid credentials"})
        query = urllib.parse.parse_qs(url.query)
        access = []
        for scope in query.get("scope", []):
            for one in scope.split(" "):
                parts = one.split(":")
                if len(parts) < 3 or parts[0] != "repository":
                    continue
                name, actions = ":".join(parts[1:-1]), parts[-1].split(",")
                if name.startswith(READ_ONLY):
                    actions = [a for a in actions if a == "pull"]
                access.append({"type": "repository", "name": name, "actions": actions})
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": USER, "aud": query.get("service", [""])[0], "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(), "access": access}
        token = sign(claims)
        print("issued", USER, " ".join(query.get("scope", [])), flush=True)
        self.reply(200, {"token": token, "access_token": token, "expires_in": 300})


http.server.ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler).serve_forever()
