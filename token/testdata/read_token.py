#!/usr/bin/python3
"""Reads a gonetic connect token as docs/PROTOCOL.md ("Connect tokens")
describes it, with nothing but the standard library and python3-nacl.

usage: read_token.py TOKEN_HEX [KEY_HEX]
Prints the public part as JSON; with the shared key, also the sealed part.
"""
import json
import struct
import sys

from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt


def read_token(token, key=None):
    if token[:4] != b"GNTK":
        raise ValueError("not a gonetic connect token")
    if token[4] != 1:
        raise ValueError("connect token version %d, this reads 1" % token[4])
    n = token[5]
    (s,) = struct.unpack_from("<H", token, 6)
    created, expires = struct.unpack_from("<QQ", token, 8)
    token_id = token[24:48]
    servers, p = [], 48
    for _ in range(n):
        size = token[p]
        servers.append(token[p + 1 : p + 1 + size].decode())
        p += 1 + size
    a = p  # additional data: ticket bytes 0 to a
    t = a + s
    if len(token) != t + 64:
        raise ValueError("token of %d bytes, its fields say %d" % (len(token), t + 64))
    out = {
        "created_ms": created,
        "expires_ms": expires,
        "id": token_id.hex(),
        "servers": servers,
        "client_to_server_key": token[t : t + 32].hex(),
        "server_to_client_key": token[t + 32 : t + 64].hex(),
        "ticket": token[:t].hex(),  # what the client sends to a server
    }
    if key is not None:
        plain = crypto_aead_xchacha20poly1305_ietf_decrypt(token[a:t], token[:a], token_id, key)
        (client_id,) = struct.unpack_from("<Q", plain, 0)
        out["client_id"] = client_id
        out["sealed_client_to_server_key"] = plain[8:40].hex()
        out["sealed_server_to_client_key"] = plain[40:72].hex()
        out["user_data"] = plain[72:].hex()
    return out


if __name__ == "__main__":
    key = bytes.fromhex(sys.argv[2]) if len(sys.argv) > 2 else None
    print(json.dumps(read_token(bytes.fromhex(sys.argv[1]), key)))
