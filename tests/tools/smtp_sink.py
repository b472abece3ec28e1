#!/usr/bin/python3
"""A loopback SMTP server for the notification tests (stdlib only; no smtpd).

Binds 127.0.0.1 on a free port, prints the port on stdout, then serves sessions one at a time
until killed. Every message received is written to OUT/mail-N.json before it is acknowledged:
  {"mail_from", "rcpt_to": [...], "data": "<the message>", "tls": <was TLS on for DATA>,
   "auth": {"mechanism", "username", "password", "tls"} or null}
When a session ends, its commands go to OUT/session-N.json ({"commands": [...]}, AUTH
arguments left out), so a test can check what a client sent when no message came.

  --tls none       plain SMTP, no STARTTLS offered (a client that requires TLS must give up)
  --tls starttls   STARTTLS offered; AUTH and MAIL refused before it
  --tls implicit   TLS from the first byte (smtps://)
"""
import argparse
import base64
import json
import os
import socket
import ssl
import sys


class Session:
    def __init__(self, sock, args, context, counter):
        self.counter = counter
        self.sock = sock
        self.args = args
        self.context = context
        self.tls = args.tls == "implicit"
        self.reader = sock.makefile("rb")
        self.auth = None
        self.mail_from = None
        self.rcpt_to = []
        self.commands = []

    def reply(self, line):
        self.sock.sendall(line.encode() + b"\r\n")

    def readline(self):
        line = self.reader.readline(65536)
        if not line:
            raise EOFError
        return line.decode("utf-8", "replace").rstrip("\r\n")

    def ehlo_lines(self):
        lines = ["localhost mlq test sink"]
        if self.args.tls == "starttls" and not self.tls:
            lines.append("STARTTLS")
        lines += ["AUTH PLAIN LOGIN", "8BITMIME", "SIZE 10485760"]
        return lines

    def check_secure(self):
        if self.args.tls == "starttls" and not self.tls:
            self.reply("530 5.7.0 Must issue a STARTTLS command first")
            return False
        return True

    def authenticate(self, argument):
        parts = argument.split(" ", 1)
        mechanism = parts[0].upper()
        initial = parts[1] if len(parts) > 1 else None
        if mechanism == "PLAIN":
            if initial is None:
                self.reply("334 ")
                initial = self.readline()
            fields = base64.b64decode(initial).decode("utf-8", "replace").split("\0")
            username, password = (fields + ["", "", ""])[1:3]
        elif mechanism == "LOGIN":
            if initial is None:
                self.reply("334 VXNlcm5hbWU6")
                initial = self.readline()
            username = base64.b64decode(initial).decode("utf-8", "replace")
            self.reply("334 UGFzc3dvcmQ6")
            password = base64.b64decode(self.readline()).decode("utf-8", "replace")
        else:
            self.reply("504 5.5.4 Unrecognized authentication type")
            return
        self.auth = {"mechanism": mechanism, "username": username, "password": password,
                     "tls": self.tls}
        if self.args.password is not None and password != self.args.password:
            self.reply("535 5.7.8 Authentication credentials invalid")
        else:
            self.reply("235 2.7.0 Authentication successful")

    def receive_data(self):
        lines = []
        while True:
            line = self.readline()
            if line == ".":
                break
            lines.append(line[1:] if line.startswith(".") else line)
        # Written before the reply, so the message is on disk once the client has its answer.
        self.counter["messages"] += 1
        write_json(os.path.join(self.args.out, "mail-%d.json" % self.counter["messages"]),
                   {"mail_from": self.mail_from, "rcpt_to": self.rcpt_to,
                    "data": "\r\n".join(lines) + "\r\n", "tls": self.tls, "auth": self.auth})
        self.mail_from, self.rcpt_to = None, []
        self.reply("250 2.0.0 OK: queued")

    def run(self):
        self.reply("220 localhost ESMTP mlq test sink")
        while True:
            line = self.readline()
            verb, _, argument = line.partition(" ")
            verb = verb.upper()
            self.commands.append(verb if verb == "AUTH" else line)
            if verb in ("EHLO", "HELO"):
                lines = self.ehlo_lines()
                for text in lines[:-1]:
                    self.reply("250-" + text)
                self.reply("250 " + lines[-1])
            elif verb == "STARTTLS" and self.args.tls == "starttls" and not self.tls:
                self.reply("220 2.0.0 Ready to start TLS")
                self.sock = self.context.wrap_socket(self.sock, server_side=True)
                self.reader = self.sock.makefile("rb")
                self.tls = True
            elif verb == "AUTH":
                if self.check_secure():
                    self.authenticate(argument)
            elif verb == "MAIL":
                if self.check_secure():
                    self.mail_from = argument.partition(":")[2].split(" ")[0]
                    self.reply("250 2.1.0 OK")
            elif verb == "RCPT":
                self.rcpt_to.append(argument.partition(":")[2].split(" ")[0])
                self.reply("250 2.1.5 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                self.receive_data()
            elif verb in ("RSET", "NOOP"):
                self.reply("250 2.0.0 OK")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Command not recognized")


def write_json(path, value):
    with open(path + ".tmp", "w") as f:
        json.dump(value, f, indent=1)
    os.replace(path + ".tmp", path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for the received messages")
    parser.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    parser.add_argument("--cert", help="PEM certificate (with --tls starttls or implicit)")
    parser.add_argument("--key", help="PEM private key")
    parser.add_argument("--password", help="the only password AUTH accepts")
    args = parser.parse_args()

    context = None
    if args.tls != "none":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    print(server.getsockname()[1], flush=True)

    counter = {"messages": 0, "sessions": 0}
    while True:
        sock, _ = server.accept()
        sock.settimeout(30)
        session = None
        try:
            if args.tls == "implicit":
                sock = context.wrap_socket(sock, server_side=True)
            session = Session(sock, args, context, counter)
            session.run()
        except (EOFError, OSError, ssl.SSLError, ValueError) as error:
            print("session ended: %r" % (error,), file=sys.stderr, flush=True)
        finally:
            sock.close()
        if session is not None:
            counter["sessions"] += 1
            write_json(os.path.join(args.out, "session-%d.json" % counter["sessions"]),
                       {"commands": session.commands})


if __name__ == "__main__":
    main()
