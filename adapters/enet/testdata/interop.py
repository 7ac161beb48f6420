#!/usr/bin/python3
"""A gonetic client over ENet in Python, written from docs/PROTOCOL.md alone.

Usage: interop.py HOST PORT

It connects with pyenet (python3-enet) and msgpack, does the handshake
(hello with the registry hash it computes itself), sends one chat_msg,
waits for one chat_msg from the server, says bye and disconnects. It
answers pings meanwhile. Every step is a line on stdout; on any failure it
prints "FAIL: ..." and exits with status 1. adapters/enet's TestPythonInterop
runs it against a gonetic server.
"""

import hashlib
import sys
import time

import enet
import msgpack

# docs/PROTOCOL.md, "ENet".
CONNECT_DATA = 0x676E7401  # "gnt" << 8 | protocol version 1
DISCONNECT_CLOSE = 1  # disconnect data of a graceful close

# docs/PROTOCOL.md, "Control messages" and "The registry hash".
PROTOCOL_VERSION = 1
CODEC = "msgpack"
# The registry, in id order: (name, fields, channel, delivery). The first
# type has id 1.
TYPES = [("chat_msg", ["player", "msg"], 0, "reliable")]
FLAGS = {
    "reliable": enet.PACKET_FLAG_RELIABLE,
    "sequenced": 0,
    "unsequenced": enet.PACKET_FLAG_UNSEQUENCED,
}

DEADLINE = 20.0  # seconds for the whole exchange


def type_lines():
    return [
        "%d %s(%s) %d %s" % (i + 1, name, ",".join(fields), channel, delivery)
        for i, (name, fields, channel, delivery) in enumerate(TYPES)
    ]


def registry_hash():
    text = "gonetic registry 1 codec=%s\n" % CODEC
    text += "".join(line + "\n" for line in type_lines())
    return hashlib.sha256(text.encode("utf-8")).digest()[:16]


def channels():
    return max(channel for _, _, channel, _ in TYPES) + 1


def control(*items):
    return b"\x00" + msgpack.packb(list(items))


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

    def send(self, channel, flags, payload):
        if self.peer.send(channel, enet.Packet(payload, flags)) < 0:
            fail("enet send failed")

    def send_control(self, *items):
        # Control messages travel reliable on channel 0.
        self.send(0, enet.PACKET_FLAG_RELIABLE, control(*items))

    def send_message(self, name, *fields):
        for i, (tname, tfields, channel, delivery) in enumerate(TYPES):
            if tname == name:
                if len(fields) != len(tfields):
                    fail("%s has %d fields" % (name, len(tfields)))
                payload = msgpack.packb([i + 1] + list(fields))
                self.send(channel, FLAGS[delivery], payload)
                return payload
        fail("unknown type " + name)

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

    def next_payload(self):
        """The next payload that is not a ping or pong: (channel, bytes, control list or None)."""
        while True:
            ev = self.event()
            if ev.type == enet.EVENT_TYPE_DISCONNECT:
                fail("disconnected by the server, data %d" % ev.data)
            if ev.type != enet.EVENT_TYPE_RECEIVE:
                continue
            data = bytes(ev.packet.data)
            if data[:1] != b"\x00":
                return ev.channelID, data, None
            ctl = msgpack.unpackb(data[1:])
            if ctl[0] == "ping":
                self.send_control("pong", ctl[1])
                say("ping %d -> pong" % ctl[1])
                continue
            if ctl[0] == "pong":
                continue
            return ev.channelID, data, ctl

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
        name, fields, channel, _ = TYPES[tid - 1]
        if ch != channel:
            fail("%s on channel %d, registered on %d" % (name, ch, channel))
        values = dict(zip(fields, msg[1:]))
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
    c.bye("python done")
    say("OK")


if __name__ == "__main__":
    main()
