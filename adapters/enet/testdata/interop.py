#!/usr/bin/python3
"""A gonetic client over ENet in Python, written from docs/PROTOCOL.md alone.

Usage: interop.py HOST PORT

It connects with pyenet (python3-enet) and msgpack, does the handshake
(hello with the registry hash it computes itself), sends one chat_msg,
waits for one chat_msg from the server, sends two chat_msg in one bundle,
waits for a burst of BURST chat_msg from the server (which bundles them;
the Go client of the test asks for it), sends an aim (nested structs) and
waits for the snapshot (nested structs) the server answers with,
says bye and disconnects. It answers pings meanwhile. Every step is a line on stdout; on any failure it
prints "FAIL: ..." and exits with status 1. adapters/enet's TestPythonInterop
runs it against a gonetic server.
"""

import collections
import hashlib
import sys
import time

import enet
import msgpack

# docs/PROTOCOL.md, "ENet".
CONNECT_DATA = 0x676E7402  # "gnt" << 8 | ENet protocol version 2
DISCONNECT_CLOSE = 1  # disconnect data of a graceful close
BUNDLE = 0x01  # first byte of a bundle: several payloads in one packet

# docs/PROTOCOL.md, "Control messages" and "The registry hash".
PROTOCOL_VERSION = 1
CODEC = "msgpack"
# The registry, in id order: (name, fields, channel, delivery, options). The
# first type has id 1. A field that holds structs is written with their
# shape: players[]{id,x,y} is a list of structs of three fields.
TYPES = [
    ("chat_msg", ["player", "msg"], 0, "reliable", ""),
    ("snapshot", ["tick", "players[]{id,x,y}"], 0, "reliable", " from=server"),
    ("aim", ["origin{x,y}", "path[]{x,y}"], 0, "reliable", " from=client max=200"),
]
FLAGS = {
    "reliable": enet.PACKET_FLAG_RELIABLE,
    "sequenced": 0,
    "unsequenced": enet.PACKET_FLAG_UNSEQUENCED,
}

DEADLINE = 20.0  # seconds for the whole exchange
BURST = 20  # chat_msg the server sends at once at the end


def type_lines():
    return [
        "%d %s(%s) %d %s%s" % (i + 1, name, ",".join(fields), channel, delivery, options)
        for i, (name, fields, channel, delivery, options) in enumerate(TYPES)
    ]


def parse_field(text, i=0):
    """docs/PROTOCOL.md, "The registry hash": a field's name and shape at
    text[i:], and the position after it. A shape is None (a plain value),
    ("struct", [(name, shape), ...]), ("list", shape) or ("array", n, shape)."""
    j = i
    while j < len(text) and text[j] not in ",{}[]":
        j += 1
    name = text[i:j]
    prefixes = []
    while j < len(text) and text[j] == "[":
        k = text.index("]", j)
        prefixes.append(text[j + 1 : k])
        j = k + 1
    shape = None
    if j < len(text) and text[j] == "{":
        fields, j = [], j + 1
        while text[j] != "}":
            field, j = parse_field(text, j)
            fields.append(field)
            if text[j] == ",":
                j += 1
        shape, j = ("struct", fields), j + 1
    for n in reversed(prefixes):
        shape = ("list", shape) if n == "" else ("array", int(n), shape)
    return (name, shape), j


def named(shape, value):
    """A decoded value with its structs as dicts by field name."""
    if shape is None or value is None:
        return value
    if shape[0] == "struct":
        if len(value) != len(shape[1]):
            fail("a struct of %d fields, got %r" % (len(shape[1]), value))
        return {name: named(sub, v) for (name, sub), v in zip(shape[1], value)}
    return [named(shape[-1], v) for v in value]


def registry_hash():
    text = "gonetic registry 1 codec=%s\n" % CODEC
    text += "".join(line + "\n" for line in type_lines())
    return hashlib.sha256(text.encode("utf-8")).digest()[:16]


def channels():
    return max(t[2] for t in TYPES) + 1


def control(*items):
    return b"\x00" + msgpack.packb(list(items))


def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def bundle(payloads):
    """docs/PROTOCOL.md, "Bundles": 0x01, then each payload after its length."""
    return bytes([BUNDLE]) + b"".join(uvarint(len(p)) + p for p in payloads)


def unbundle(data):
    """The payloads of a bundle, in order."""
    out, i = [], 1
    while i < len(data):
        n, shift = 0, 0
        while True:
            if i >= len(data) or shift > 28:
                fail("bad length in bundle %s" % data.hex(" "))
            b = data[i]
            i += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        if i + n > len(data):
            fail("payload runs past the end of bundle %s" % data.hex(" "))
        out.append(data[i : i + n])
        i += n
    if not out:
        fail("empty bundle")
    return out


def say(*words):
    print(*words, flush=True)


def fail(why):
    say("FAIL:", why)
    sys.exit(1)


class Client:
    def __init__(self, host, port):
        self.host = enet.Host(None, 1, channels(), 0, 0)
        self.peer = self.host.connect(enet.Address(host.encode(), port), channels(), CONNECT_DATA)
        self.end = time.monotonic() + DEADLINE
        self.open = False
        self.pending = collections.deque()  # (channel, payload) of a bundle, not yet taken
        self.bundled = 0  # payloads that came in bundles

    def send(self, channel, flags, payload):
        if self.peer.send(channel, enet.Packet(payload, flags)) < 0:
            fail("enet send failed")

    def send_control(self, *items):
        # Control messages travel reliable on channel 0.
        self.send(0, enet.PACKET_FLAG_RELIABLE, control(*items))

    def encode(self, name, *fields):
        """A message's payload, channel and flags."""
        for i, (tname, tfields, channel, delivery, _) in enumerate(TYPES):
            if tname == name:
                if len(fields) != len(tfields):
                    fail("%s has %d fields" % (name, len(tfields)))
                return msgpack.packb([i + 1] + list(fields)), channel, FLAGS[delivery]
        fail("unknown type " + name)

    def send_message(self, name, *fields):
        payload, channel, flags = self.encode(name, *fields)
        self.send(channel, flags, payload)
        return payload

    def send_bundle(self, name, *messages):
        """Sends messages of one type (so one channel and delivery) as one bundle."""
        payloads = [self.encode(name, *fields)[0] for fields in messages]
        _, channel, flags = self.encode(name, *messages[0])
        packet = bundle(payloads)
        self.send(channel, flags, packet)
        return packet

    def event(self):
        """The next ENet event; fails after the deadline."""
        while True:
            left = self.end - time.monotonic()
            if left <= 0:
                fail("deadline passed")
            ev = self.host.service(int(min(left, 0.1) * 1000))
            if ev is not None and ev.type != enet.EVENT_TYPE_NONE:
                return ev

    def connect(self):
        ev = self.event()
        if ev.type != enet.EVENT_TYPE_CONNECT:
            fail("ENet connect: event %d, data %d" % (ev.type, ev.data))
        say("enet connected: connect data %#010x, %d channel(s)" % (CONNECT_DATA, self.peer.channelCount))

    def packet(self):
        """The next payload, from a bundle or a packet of its own: (channel, bytes)."""
        while not self.pending:
            ev = self.event()
            if ev.type == enet.EVENT_TYPE_DISCONNECT:
                fail("disconnected by the server, data %d" % ev.data)
            if ev.type != enet.EVENT_TYPE_RECEIVE:
                continue
            data = bytes(ev.packet.data)
            if data[:1] == bytes([BUNDLE]):
                payloads = unbundle(data)
                self.bundled += len(payloads)
                self.pending.extend((ev.channelID, p) for p in payloads)
            else:
                self.pending.append((ev.channelID, data))
        return self.pending.popleft()

    def next_payload(self):
        """The next payload that is not a ping or pong: (channel, bytes, control list or None)."""
        while True:
            channel, data = self.packet()
            if data[:1] != b"\x00":
                return channel, data, None
            ctl = msgpack.unpackb(data[1:])
            if ctl[0] == "ping":
                self.send_control("pong", ctl[1])
                say("ping %d -> pong" % ctl[1])
                continue
            if ctl[0] == "pong":
                continue
            return channel, data, ctl

    def handshake(self):
        h = registry_hash()
        self.send_control("hello", PROTOCOL_VERSION, CODEC, h, type_lines())
        say("sent hello: version %d, codec %s, hash %s, types %s" % (PROTOCOL_VERSION, CODEC, h.hex(), type_lines()))
        ch, data, ctl = self.next_payload()
        if ctl is None:
            fail("a message before welcome: %s" % data.hex(" "))
        if ctl[0] == "refuse":
            fail("refused: %s" % ctl[1])
        if ctl != ["welcome", PROTOCOL_VERSION]:
            fail("unexpected control %r" % ctl)
        if data != bytes.fromhex("00 92 a7 77 65 6c 63 6f 6d 65 01"):
            fail("welcome bytes %s differ from the documented ones" % data.hex(" "))
        say("got welcome on channel %d: %s" % (ch, data.hex(" ")))
        self.open = True

    def wait_message(self):
        ch, data, ctl = self.next_payload()
        if ctl is not None:
            fail("expected a message, got control %r" % ctl)
        msg = msgpack.unpackb(data)
        tid = msg[0]
        if not 1 <= tid <= len(TYPES):
            fail("unknown type id %d" % tid)
        name, fields, channel, _, _ = TYPES[tid - 1]
        if ch != channel:
            fail("%s on channel %d, registered on %d" % (name, ch, channel))
        if len(msg) - 1 != len(fields):
            fail("%s has %d fields, got %d" % (name, len(fields), len(msg) - 1))
        shapes = [parse_field(f)[0] for f in fields]
        values = {fname: named(shape, v) for (fname, shape), v in zip(shapes, msg[1:])}
        say("got %s %r on channel %d: %s" % (name, values, ch, data.hex(" ")))
        return name, values

    def bye(self, reason):
        # docs/PROTOCOL.md, "ENet": after bye, wait for the server's ENet
        # disconnect (it closes once it has read the bye); disconnect from
        # this side only if none comes.
        self.send_control("bye", reason)
        say("sent bye %r" % reason)
        wait = time.monotonic() + 5
        while time.monotonic() < wait:
            ev = self.host.service(100)
            if ev is not None and ev.type == enet.EVENT_TYPE_DISCONNECT:
                say("enet disconnected by the server: data %d" % ev.data)
                return
        self.peer.disconnect_later(DISCONNECT_CLOSE)
        say("no disconnect from the server: ENet disconnect_later(%d)" % DISCONNECT_CLOSE)
        while True:
            ev = self.event()
            if ev.type == enet.EVENT_TYPE_DISCONNECT:
                say("enet disconnected: data %d" % ev.data)
                return


def main():
    if len(sys.argv) != 3:
        fail("usage: interop.py HOST PORT")
    c = Client(sys.argv[1], int(sys.argv[2]))
    c.connect()
    c.handshake()
    payload = c.send_message("chat_msg", "py", "hello from python")
    say("sent chat_msg on channel 0: %s" % payload.hex(" "))
    name, values = c.wait_message()
    if name != "chat_msg":
        fail("expected chat_msg, got %s" % name)
    packet = c.send_bundle("chat_msg", ("py", "bundled 1"), ("py", "bundled 2"))
    say("sent a bundle of 2 chat_msg on channel 0: %s" % packet.hex(" "))
    before = c.bundled
    for i in range(BURST):
        name, values = c.wait_message()
        if values != {"player": "server", "msg": "burst %d" % i}:
            fail("burst message %d: %s %r" % (i, name, values))
    say("got the burst: %d chat_msg in order, %d of them in bundles" % (BURST, c.bundled - before))
    # Nested structs travel as arrays of their fields, in order.
    payload = c.send_message("aim", [1.5, -2.0], [[0.5, 1.0], [2.0, 4.0]])
    say("sent aim on channel 0: %s" % payload.hex(" "))
    name, values = c.wait_message()
    want = {"tick": 2, "players": [{"id": 1, "x": 0.5, "y": 1.0}, {"id": 2, "x": 2.0, "y": 4.0}]}
    if name != "snapshot" or values != want:
        fail("expected snapshot %r, got %s %r" % (want, name, values))
    c.bye("python done")
    say("OK")


if __name__ == "__main__":
    main()
