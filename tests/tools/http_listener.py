#!/usr/bin/python3
"""A loopback HTTP(S) listener for the webhook tests (stdlib only).

Binds 127.0.0.1 on a free port, prints the port on stdout, then answers every POST with
--status until killed. Each request is written to OUT/request-N.json before the answer:
  {"method", "path", "headers": {name: value}, "body": "<the body>", "tls": bool}
"""
import argparse
import http.server
import json
import os
import ssl


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for the received requests")
    parser.add_argument("--status", type=int, default=200, help="the HTTP status to answer")
    parser.add_argument("--cert", help="PEM certificate: serve HTTPS")
    parser.add_argument("--key", help="PEM private key")
    args = parser.parse_args()
    count = {"requests": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode("utf-8", "replace")
            count["requests"] += 1
            path = os.path.join(args.out, "request-%d.json" % count["requests"])
            with open(path + ".tmp", "w") as f:
                json.dump({"method": self.command, "path": self.path,
                           "headers": dict(self.headers.items()), "body": body,
                           "tls": args.cert is not None}, f, indent=1)
            os.replace(path + ".tmp", path)
            self.send_response(args.status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "3")
            self.end_headers()
            self.wfile.write(b"ok\n")

        def log_message(self, format, *values):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
