#!/usr/bin/python3
"""A gonetic client over ENet in Python, written from docs/PROTOCOL.md alone.

Usage: interop.py [--token HEX] HOST PORT
       interop.py --check-seal

It connects with pyenet (python3-enet) and msgpack, does the handshake
(hello with the registry hash it computes itself), sends one chat_msg,
waits for one chat_msg from the server, sends two chat_msg in one bundle,
waits for a burst of BURST chat_msg from the server (which bundles them;
the Go client of the test asks for it), sends an aim (nested structs) and
waits for the snapshot (nested structs) the server answers with,
waits until it has answered a ping, says bye and disconnects. It answers
pings meanwhile. Every step is a line on stdout; on any failure it
prints "FAIL: ..." and exits with status 1. adapters/enet's TestPythonInterop
runs it against a gonetic server.

With --token (a connect token in hex, docs/PROTOCOL.md "Connect tokens") it
does the same over a sealed connection ("Sealed connections"): it sends the
token's ticket and a random in its hello, reads the server's session,
derives the keys and from then on seals all it sends and opens all it
receives, with python3-nacl. TestPythonInteropSealed runs it so. With
--check-seal it checks its sealing on the worked example and the receiving
rules of "Sealed connections" (TestPythonSealRules).
"""

import collections
import hashlib
import hmac
import os
import struct
import sys
import time

import enet
import msgpack

try:  # only --token needs it
    import nacl.bindings
    import nacl.exceptions
except ImportError:
    nacl = None

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
# With --token, the registry has a fourth type, so that an unreliable
# stream and channel 1 (where a sealed payload starts with the bundle
# mark) are sealed too: the server sends back each pos it gets.
POS = ("pos", ["x", "y"], 1, "sequenced", "")
FLAGS = {
    "reliable": enet.PACKET_FLAG_RELIABLE,
    "sequenced": 0,
    "unsequenced": enet.PACKET_FLAG_UNSEQUENCED,
}
# docs/PROTOCOL.md, "Sealed connections": a delivery's number in a sealed
# payload's header and nonce.
DELIVERY = {"reliable": 0, "sequenced": 1, "unsequenced": 2}
TAG = 16  # bytes of a ChaCha20-Poly1305 tag
WINDOW = 256  # unsequenced counters, the highest taken included, a receiver tracks

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


def read_uvarint(data, i, most):
    """The unsigned LEB128 varint of at most `most` bytes at data[i:] and
    the position after it; None if it is cut short or longer."""
    n, shift = 0, 0
    for j in range(i, min(len(data), i + most)):
        n |= (data[j] & 0x7F) << shift
        shift += 7
        if data[j] < 0x80:
            return n, j + 1
    return None


def unbundle(data):
    """The payloads of a bundle, in order."""
    out, i = [], 1
    while i < len(data):
        got = read_uvarint(data, i, 5)
        if got is None:
            fail("bad length in bundle %s" % data.hex(" "))
        n, i = got
        if i + n > len(data):
            fail("payload runs past the end of bundle %s" % data.hex(" "))
        out.append(data[i : i + n])
        i += n
    if not out:
        fail("empty bundle")
    return out


def read_token(token):
    """docs/PROTOCOL.md, "Connect tokens": a token's ticket (what goes to
    the server) and its two keys, client-to-server and server-to-client."""
    if len(token) < 48 or token[:4] != b"GNTK" or token[4] != 1:
        fail("not a version 1 connect token: %s" % token[:8].hex(" "))
    n = token[5]
    (s,) = struct.unpack_from("<H", token, 6)
    a = 48  # the addresses, each after its length byte
    for _ in range(n):
        if a >= len(token):
            fail("connect token cut short in its addresses")
        a += 1 + token[a]
    t = a + s  # the ticket's length: the sealed part ends it
    if len(token) != t + 64:
        fail("connect token of %d bytes, its fields say %d" % (len(token), t + 64))
    return token[:t], token[t : t + 32], token[t + 32 :]


def session_keys(c2s, s2c, rc, rs):
    """docs/PROTOCOL.md, "Sealed connections", Keys: (k_c2s, k_s2c)."""
    return (
        hmac.new(c2s, b"gonetic c2s" + rc + rs, hashlib.sha256).digest(),
        hmac.new(s2c, b"gonetic s2c" + rc + rs, hashlib.sha256).digest(),
    )


def nonce(channel, delivery, counter):
    return bytes([channel, delivery, 0, 0]) + counter.to_bytes(8, "little")


def plaintext_of(payloads):
    """docs/PROTOCOL.md, "Sealed connections": the plaintext that carries
    payloads (each non-empty) of one stream, one record each."""
    return b"".join(uvarint(len(p)) + p for p in payloads)


def payloads_of(plaintext):
    """The payloads of an opened plaintext's records, in order; None when
    it is not one or more records (a forgery: it opened, but no sender
    wrote it)."""
    out, i = [], 0
    while i < len(plaintext):
        got = read_uvarint(plaintext, i, 10)
        if got is None or got[0] == 0 or plaintext[i : got[1]] != uvarint(got[0]):
            return None
        n, i = got
        if i + n > len(plaintext):
            return None
        out.append(plaintext[i : i + n])
        i += n
    return out or None


class Seal:
    """The keys and the per-stream counters of a sealed connection, as
    docs/PROTOCOL.md, "Sealed connections", gives them."""

    def __init__(self, seal_key, open_key):
        self.seal_key, self.open_key = seal_key, open_key
        self.next_out = collections.Counter()  # (channel, delivery): the counter to send next
        self.next_in = collections.Counter()  # (channel, delivery): 1 + the highest counter taken
        self.window = collections.defaultdict(set)  # (channel, unsequenced): counters taken below next_in
        self.dropped = 0  # unreliable payloads that failed, dropped
        self.gathered = 0  # payloads that came with others in one sealed payload

    def seal(self, channel, delivery, payloads):
        """One sealed payload that carries payloads, the stream's next."""
        return self.seal_plain(channel, delivery, plaintext_of(payloads))

    def seal_plain(self, channel, delivery, plain):
        stream = (channel, delivery)
        counter = self.next_out[stream]
        self.next_out[stream] += 1
        box = nacl.bindings.crypto_aead_chacha20poly1305_ietf_encrypt(
            plain, b"", nonce(channel, delivery, counter), self.seal_key
        )
        return bytes([channel, delivery]) + uvarint(counter) + box

    def fresh(self, stream, counter):
        delivery, nxt = stream[1], self.next_in[stream]
        if delivery == DELIVERY["reliable"]:
            return counter == nxt
        if counter >= nxt:
            return True
        if delivery == DELIVERY["sequenced"]:
            return False
        return nxt - 1 - counter < WINDOW and counter not in self.window[stream]

    def accept(self, stream, counter):
        nxt = self.next_in[stream]
        if stream[1] == DELIVERY["unsequenced"]:
            w = self.window[stream]
            w.add(counter)
            top = max(nxt, counter + 1)
            self.window[stream] = {c for c in w if top - 1 - c < WINDOW}
        self.next_in[stream] = max(nxt, counter + 1)

    def open(self, payload):
        """The channel and payloads of a sealed payload, or None when it is
        an unreliable one that failed (dropped); a reliable one that fails
        ends the connection."""
        got = self.unseal(payload)
        if not isinstance(got, str):
            return got
        if payload[1] != DELIVERY["reliable"]:
            self.dropped += 1
            say("dropped an unreliable sealed payload: %s: %s" % (got, payload.hex(" ")))
            return None
        fail("a payload failed authentication: %s: %s" % (got, payload.hex(" ")))

    def unseal(self, payload):
        """The channel and payloads of a sealed payload, recorded as taken;
        or why it may not be taken: "forged or corrupted", "replayed or out
        of order"."""
        why = None
        if len(payload) < 3 + TAG or payload[1] > 2 or payload[0] >= channels():
            why = "forged or corrupted"
        else:
            channel, delivery = payload[0], payload[1]
            got = read_uvarint(payload, 2, 10)
            if got is None or got[0] >= 1 << 64 or payload[2 : got[1]] != uvarint(got[0]) or len(payload) - got[1] < TAG:
                why = "forged or corrupted"  # only the shortest form opens
            elif not self.fresh((channel, delivery), got[0]):
                why = "replayed or out of order"
            else:
                counter, i = got
                try:
                    plain = nacl.bindings.crypto_aead_chacha20poly1305_ietf_decrypt(
                        payload[i:], b"", nonce(channel, delivery, counter), self.open_key
                    )
                    payloads = payloads_of(plain)
                    if payloads is None:
                        why = "forged or corrupted"
                except nacl.exceptions.CryptoError:
                    why = "forged or corrupted"
        if why is not None:
            return why
        self.accept((channel, delivery), counter)
        if len(payloads) > 1:
            self.gathered += len(payloads)
        return channel, payloads


def check_seal():
    """Checks Seal on docs/PROTOCOL.md's worked example of "Sealed
    connections" and on its receiving rules, without a server."""
    forged, replayed = "forged or corrupted", "replayed or out of order"

    def check(what, got, want):
        if got != want:
            fail("%s: got %r, want %r" % (what, got, want))
        say("%s: %r" % (what, got))

    kc, ks = session_keys(b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, b"\x04" * 32)
    check("k_c2s", kc.hex(), "5cba254071c8bfc5a489b15815afc3e47b95b00802d20b1b8e2bacbe34a736d6")
    check("k_s2c", ks.hex(), "1017c97c15e2d7c4258e3d3963fa8613aee5b131d7fba0fe567c638036ec06c0")
    server, client = Seal(ks, kc), Seal(kc, ks)
    welcome_payload = control("welcome", PROTOCOL_VERSION)
    pong = control("pong", 1000000000, 1765000000000000000)
    welcome = server.seal(0, 0, [welcome_payload])
    check("welcome alone", welcome.hex(" "), "00 00 00 " + bytes.fromhex("f3b5b7bffb226d10f1dbc14328b00886523248c7c44124cfbeca1abe").hex(" "))
    both = server.seal(0, 0, [welcome_payload, pong])
    check("welcome and pong at 1", both.hex(" "), "00 00 01 " + bytes.fromhex(
        "c3b0bd2c6f0a5af530bae1d4aa6cce57bb32bcd684c367761a1336a4ede00f09521be6da0cf2f073a254b8a60f0578c69970").hex(" "))
    server.next_out[0, 0] = 300
    bye = server.seal(0, 0, [control("bye", "")])
    check("bye alone at 300", bye.hex(" "), "00 00 ac 02 " + bytes.fromhex("3dae1b26656752bfe6fc2a0182357dd5b689e29cea7df4ea").hex(" "))

    # Reliable: exactly the next counter; nothing is recorded before it opens.
    check("altered", client.unseal(welcome[:-1] + bytes([welcome[-1] ^ 1])), forged)
    check("counter not shortest", client.unseal(welcome[:2] + b"\x80\x00" + welcome[3:]), forged)
    check("counter above 64 bits", client.unseal(welcome[:2] + b"\xff" * 9 + b"\x02" + welcome[3:]), forged)
    check("short", client.unseal(welcome[:18]), forged)
    check("delivery 3", client.unseal(b"\x00\x03" + welcome[2:]), forged)
    check("channel 1 unused", client.unseal(b"\x01" + welcome[1:]), forged)
    # Plaintexts that opened but are not one or more records.
    for what, plain in [
        ("no record", b""),
        ("a record of 0 bytes", b"\x00"),
        ("a length not in its shortest form", b"\x81\x00x"),
        ("a record past the end", b"\x05abc"),
        ("bytes after the last record", plaintext_of([b"ab"]) + b"\x03"),
    ]:
        check(what, client.unseal(Seal(ks, kc).seal_plain(0, 0, plain)), forged)
    check("reliable 0", client.unseal(welcome), (0, [welcome_payload]))
    check("reliable 0 again", client.unseal(welcome), replayed)
    check("reliable 1, two records", client.unseal(both), (0, [welcome_payload, pong]))
    check("reliable 300 after 1", client.unseal(bye), replayed)
    # Sequenced: greater than the highest taken.
    seq = [server.seal(0, 1, [b"s%d" % i]) for i in range(3)]
    check("sequenced 1", client.unseal(seq[1]), (0, [b"s1"]))
    check("sequenced 0 after 1", client.unseal(seq[0]), replayed)
    check("sequenced 1 again", client.unseal(seq[1]), replayed)
    check("sequenced 2", client.unseal(seq[2]), (0, [b"s2"]))
    # Unsequenced: greater, or at most 255 below the highest (a window of
    # 256 counters, the highest included) and not yet taken.
    uns = [server.seal(0, 2, [b"u%d" % i]) for i in range(301)]
    check("unsequenced 300", client.unseal(uns[300]), (0, [b"u300"]))
    check("unsequenced 45, 255 below", client.unseal(uns[45]), (0, [b"u45"]))
    check("unsequenced 45 again", client.unseal(uns[45]), replayed)
    check("unsequenced 44, 256 below", client.unseal(uns[44]), replayed)
    check("unsequenced 299", client.unseal(uns[299]), (0, [b"u299"]))


def say(*words):
    print(*words, flush=True)


def fail(why):
    say("FAIL:", why)
    sys.exit(1)


class Client:
    def __init__(self, host, port, token=None):
        self.token = read_token(token) if token is not None else None  # (ticket, c2s, s2c)
        self.seal = None  # a Seal once the server's session came
        self.held = []  # (channel, payload) that came sealed ahead of the session
        self.host = enet.Host(None, 1, channels(), 0, 0)
        self.peer = self.host.connect(enet.Address(host.encode(), port), channels(), CONNECT_DATA)
        self.end = time.monotonic() + DEADLINE
        self.open = False
        self.pending = collections.deque()  # (channel, payload) of a bundle, not yet taken
        self.bundled = 0  # payloads that came in bundles
        self.pongs = 0  # pings answered

    def send(self, channel, delivery, packet):
        if self.peer.send(channel, enet.Packet(packet, FLAGS[delivery])) < 0:
            fail("enet send failed")

    def gathered(self):
        """The payloads that came with others in one sealed payload."""
        return 0 if self.seal is None else self.seal.gathered

    def wire(self, channel, delivery, payload):
        """A payload as it goes out: sealed once the session is keyed."""
        if self.seal is None:
            return payload
        return self.seal.seal(channel, DELIVERY[delivery], [payload])

    def send_payload(self, channel, delivery, payload):
        """Sends one payload in a packet of its own; one whose first byte
        is the bundle mark (a sealed one on channel 1) in a bundle of one."""
        packet = self.wire(channel, delivery, payload)
        if packet[:1] == bytes([BUNDLE]):
            packet = bundle([packet])
        self.send(channel, delivery, packet)
        return packet

    def send_control(self, *items):
        # Control messages travel reliable on channel 0.
        return self.send_payload(0, "reliable", control(*items))

    def encode(self, name, *fields):
        """A message's payload, channel and delivery."""
        for i, (tname, tfields, channel, delivery, _) in enumerate(TYPES):
            if tname == name:
                if len(fields) != len(tfields):
                    fail("%s has %d fields" % (name, len(tfields)))
                return msgpack.packb([i + 1] + list(fields)), channel, delivery
        fail("unknown type " + name)

    def send_message(self, name, *fields):
        """Sends a message; returns its payload and, sealed, what went out."""
        payload, channel, delivery = self.encode(name, *fields)
        packet = self.send_payload(channel, delivery, payload)
        return payload, packet

    def send_bundle(self, name, *messages):
        """Sends messages of one type (so one channel and delivery) as one
        bundle; on a sealed connection, as one sealed payload of a record
        each instead."""
        payloads = [self.encode(name, *fields)[0] for fields in messages]
        _, channel, delivery = self.encode(name, *messages[0])
        if self.seal is None:
            packet = bundle(payloads)
        else:
            packet = self.seal.seal(channel, DELIVERY[delivery], payloads)
            if packet[:1] == bytes([BUNDLE]):
                packet = bundle([packet])
        self.send(channel, delivery, packet)
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
                for p in payloads:
                    self.take(ev.channelID, p)
            else:
                self.take(ev.channelID, data)
        return self.pending.popleft()

    def take(self, channel, data):
        """Queues a payload that came on channel: opened on a sealed
        connection; held, if sealed, while the session has not come."""
        if self.seal is not None:
            opened = self.seal.open(data)
            if opened is not None:
                self.pending.extend((opened[0], p) for p in opened[1])
        elif self.token is not None and not (channel == 0 and len(data) > 1 and data[0] == 0 and data[1] > 2):
            # A clear control payload is 00 and a msgpack array (second
            # byte above 02); anything else here came sealed, early.
            self.held.append((channel, data))
        else:
            self.pending.append((channel, data))

    def next_payload(self, until_pong=False):
        """The next payload that is not a ping or pong: (channel, bytes,
        control list or None); with until_pong, None once a ping was
        answered."""
        while True:
            if until_pong and self.pongs:
                return None
            channel, data = self.packet()
            if data[:1] != b"\x00":
                return channel, data, None
            ctl = msgpack.unpackb(data[1:])
            if ctl[0] == "ping":
                self.send_control("pong", ctl[1])
                self.pongs += 1
                say("ping %d -> pong" % ctl[1])
                continue
            if ctl[0] == "pong":
                continue
            if ctl[0] == "bye":
                fail("the server said bye: %r" % ctl[1])
            return channel, data, ctl

    def handshake(self):
        h = registry_hash()
        if self.token is None:
            self.send_control("hello", PROTOCOL_VERSION, CODEC, h, type_lines())
            say("sent hello: version %d, codec %s, hash %s, types %s" % (PROTOCOL_VERSION, CODEC, h.hex(), type_lines()))
        else:
            self.session(h)
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

    def session(self, h):
        """docs/PROTOCOL.md, "Sealed connections", Handshake: the hello with
        the token's ticket and a random, then the server's session, which
        keys the connection."""
        ticket, c2s, s2c = self.token
        rc = os.urandom(32)
        self.send_control("hello", PROTOCOL_VERSION, CODEC, h, type_lines(), b"", ticket, rc)
        say("sent hello: version %d, codec %s, hash %s, types %s, a ticket of %d bytes" % (
            PROTOCOL_VERSION, CODEC, h.hex(), type_lines(), len(ticket)))
        ch, data, ctl = self.next_payload()
        if ctl is None:
            fail("a message before session: %s" % data.hex(" "))
        if ctl[0] == "refuse":
            fail("refused: %s" % ctl[1])
        if ctl[0] != "session" or len(ctl) != 2 or not isinstance(ctl[1], bytes) or len(ctl[1]) != 32:
            fail("expected session, got control %r" % ctl)
        self.seal = Seal(*session_keys(c2s, s2c, rc, ctl[1]))
        say("got session on channel %d: server random %s; sealed from now on" % (ch, ctl[1].hex()))
        # docs/PROTOCOL.md, "The handshake" and "Replies before the peer has
        # shown it receives": a sealed ping at once, which shows the server
        # that we received the session at our address; over ENet it
        # welcomes us only then.
        self.send_control("ping", int(time.monotonic_ns()) & 0xFFFFFFFFFFFF)
        say("sent a sealed ping")
        held, self.held = self.held, []
        for channel, p in held:
            self.take(channel, p)

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
        if channels() > 1:
            # With types on more than one channel the server waits for
            # this side's disconnect after a bye.
            self.peer.disconnect_later(DISCONNECT_CLOSE)
            say("more than one channel: ENet disconnect_later(%d)" % DISCONNECT_CLOSE)
            while True:
                ev = self.event()
                if ev.type == enet.EVENT_TYPE_DISCONNECT:
                    say("enet disconnected: data %d" % ev.data)
                    return
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
    args, token = sys.argv[1:], None
    if args == ["--check-seal"]:
        check_seal()
        say("OK")
        return
    if args[:1] == ["--token"] and len(args) > 1:
        if nacl is None:
            fail("--token needs python3-nacl (Debian: apt-get install python3-nacl)")
        token, args = bytes.fromhex(args[1]), args[2:]
        TYPES.append(POS)
    if len(args) != 2:
        fail("usage: interop.py [--token HEX] HOST PORT")
    c = Client(args[0], int(args[1]), token)
    c.connect()
    c.handshake()
    payload, packet = c.send_message("chat_msg", "py", "hello from python")
    say("sent chat_msg on channel 0: %s" % payload.hex(" "))
    if c.seal is not None:
        say("sealed as %s" % packet.hex(" "))
    name, values = c.wait_message()
    if name != "chat_msg":
        fail("expected chat_msg, got %s" % name)
    packet = c.send_bundle("chat_msg", ("py", "bundled 1"), ("py", "bundled 2"))
    if c.seal is None:
        say("sent a bundle of 2 chat_msg on channel 0: %s" % packet.hex(" "))
    else:
        say("sent 2 chat_msg in one sealed payload on channel 0: %s" % packet.hex(" "))
    before, gathered = c.bundled, c.gathered()
    for i in range(BURST):
        name, values = c.wait_message()
        if values != {"player": "server", "msg": "burst %d" % i}:
            fail("burst message %d: %s %r" % (i, name, values))
    say("got the burst: %d chat_msg in order, %d of them in bundles, %d in sealed payloads of several" % (
        BURST, c.bundled - before, c.gathered() - gathered))
    # Nested structs travel as arrays of their fields, in order.
    payload, _ = c.send_message("aim", [1.5, -2.0], [[0.5, 1.0], [2.0, 4.0]])
    say("sent aim on channel 0: %s" % payload.hex(" "))
    name, values = c.wait_message()
    want = {"tick": 2, "players": [{"id": 1, "x": 0.5, "y": 1.0}, {"id": 2, "x": 2.0, "y": 4.0}]}
    if name != "snapshot" or values != want:
        fail("expected snapshot %r, got %s %r" % (want, name, values))
    if c.seal is not None:
        payload, packet = c.send_message("pos", 1.5, -2.0)
        say("sent pos on channel 1, sequenced: %s, sealed as %s" % (payload.hex(" "), packet.hex(" ")))
        name, values = c.wait_message()
        if name != "pos" or values != {"x": 1.5, "y": -2.0}:
            fail("expected pos back, got %s %r" % (name, values))
    # The server's PingInterval is short in the test: a pong of this
    # side's reaches it before the bye (sealed, with --token).
    got = c.next_payload(until_pong=True)
    if got is not None:
        fail("expected a ping, got %s" % got[1].hex(" "))
    say("answered %d ping(s)" % c.pongs)
    c.bye("python done")
    if c.seal is not None:
        say("sealed: sent %d sealed payload(s) on channel 0 reliable, took %d, dropped %d" % (
            c.seal.next_out[0, 0], c.seal.next_in[0, 0], c.seal.dropped))
    say("OK")


if __name__ == "__main__":
    main()
