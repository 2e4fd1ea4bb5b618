#!/usr/bin/env python3
"""replay-proxy: an HTTP proxy in front of an OpenAI-compatible server that records every POST response under
the exact request (path + body) and answers an identical later request from the record. Two harnesses run
through it one after the other then pay for each distinct generation once, and every request of the second
that is not byte-for-byte (after JSON canonicalisation) a request of the first shows up as a miss.

  scripts/replay-proxy.py --upstream http://127.0.0.1:8080 --port 9000 --record FILE.jsonl [--replay-only]

* --record FILE: a JSON Lines file of {"key", "path", "request", "status", "response"}; read at start (so a
  record survives restarts and can be shared by runs) and appended to as responses arrive.
* --replay-only: a request not in the record is answered 599 with the request's canonical key, instead of
  being forwarded (for a strict check that a second harness sent exactly the first one's requests).
* GET /__stats answers {"hits", "misses", "gen_misses", "recorded", "forwarded"} (gen_misses: misses of
  generation requests, i.e. with a `stop` field); every miss is also logged on stderr with
  an excerpt of its body. GET requests (e.g. /v1/models) are always forwarded.

The key: the request path and its JSON body with keys sorted and numbers canonicalised (`0` and `0.0` are the
same temperature) and a `prompt` that is a batch of one (`[[ids]]`, as lm-eval sends it) taken as that one
prompt (`[ids]`), so two clients that write the same request differently still match. (Why replay at all:
llama-server's prompt cache makes its greedy answers depend on the requests before, so two harnesses sending
the same prompts in a different order can get different texts; the record gives both the same answer.) Used by
scripts/parity-lm-eval --replay; the server behind it must be deterministic (greedy, one slot).
"""
import argparse
import hashlib
import json
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def canonical(v):
    """JSON value with integral floats as ints (so 0.0 == 0) and dict keys sorted on dump."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, list):
        return [canonical(x) for x in v]
    if isinstance(v, dict):
        return {k: canonical(x) for k, x in v.items()}
    return v


def request_key(path, body):
    try:
        obj = canonical(json.loads(body or b"null"))
        # a batch of one prompt is that prompt: lm-eval sends `[[ids]]`, Yardstick `[ids]`
        p = obj.get("prompt") if isinstance(obj, dict) else None
        if isinstance(p, list) and len(p) == 1 and isinstance(p[0], (list, str)):
            obj["prompt"] = p[0]
        text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except ValueError:
        text = body.decode("utf-8", errors="replace")
    return hashlib.sha256(f"{path}\n{text}".encode()).hexdigest(), text


class Record:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.entries = {}
        # gen_misses: misses of generation requests (a body with `stop`), the ones a harness comparison is
        # about; a client's own probes (echo, /tokenize) are misses too but not generation requests
        self.stats = {"hits": 0, "misses": 0, "gen_misses": 0, "recorded": 0, "forwarded": 0}
        try:
            with open(path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    try:
                        e = json.loads(line)
                    except ValueError as err:
                        sys.exit(f"replay-proxy: {path}:{n}: not JSON ({err}); delete the line or the file")
                    self.entries[e["key"]] = (e["status"], e["response"].encode("utf-8"))
        except FileNotFoundError:
            pass
        self.out = open(path, "a", encoding="utf-8")

    def get(self, key, generation):
        with self.lock:
            hit = self.entries.get(key)
            self.stats["hits" if hit else "misses"] += 1
            if generation and not hit:
                self.stats["gen_misses"] += 1
            return hit

    def put(self, key, path, text, status, body):
        with self.lock:
            self.stats["forwarded"] += 1
            if status != 200 or key in self.entries:
                return
            self.entries[key] = (status, body)
            self.stats["recorded"] += 1
            self.out.write(json.dumps({"key": key, "path": path, "request": text, "status": status,
                                       "response": body.decode("utf-8", errors="replace")},
                                      ensure_ascii=False) + "\n")
            self.out.flush()


def make_handler(upstream, record, replay_only, timeout):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *a):
            pass

        def _send(self, status, body, ctype="application/json"):
            self.send_response(status)
            self.send_header("content-type", ctype)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _forward(self, method, body):
            req = urllib.request.Request(upstream + self.path, data=body, method=method,
                                         headers={"content-type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=timeout) as r:
                    return r.status, r.read()
            except urllib.error.HTTPError as e:
                return e.code, e.read()
            except OSError as e:
                return 502, json.dumps({"error": f"replay-proxy: upstream {upstream}: {e}"}).encode()

        def do_GET(self):
            if self.path == "/__stats":
                with record.lock:
                    self._send(200, json.dumps(record.stats).encode())
                return
            status, body = self._forward("GET", None)
            self._send(status, body)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            key, text = request_key(self.path, body)
            try:
                generation = isinstance(json.loads(body or b"null"), dict) and "stop" in json.loads(body)
            except ValueError:
                generation = False
            hit = record.get(key, generation)
            if hit:
                self._send(*hit)
                return
            print(f"[replay-proxy] miss {self.path} {key[:12]}: {text[:300]}", file=sys.stderr, flush=True)
            if replay_only:
                self._send(599, json.dumps({"error": f"replay-proxy: request {key} is not in the record"}).encode())
                return
            status, resp = self._forward("POST", body)
            record.put(key, self.path, text, status, resp)
            self._send(status, resp)

    return H


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--upstream", required=True, help="base URL of the real server, e.g. http://127.0.0.1:8080")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--record", required=True, help="JSON Lines record file (read, then appended to)")
    ap.add_argument("--replay-only", action="store_true", help="answer 599 instead of forwarding a miss")
    ap.add_argument("--timeout", type=float, default=3600.0, help="upstream timeout in seconds")
    a = ap.parse_args()
    record = Record(a.record)
    srv = ThreadingHTTPServer(("127.0.0.1", a.port),
                              make_handler(a.upstream.rstrip("/"), record, a.replay_only, a.timeout))
    print(f"[replay-proxy] 127.0.0.1:{a.port} -> {a.upstream} ({len(record.entries)} recorded)",
          file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
