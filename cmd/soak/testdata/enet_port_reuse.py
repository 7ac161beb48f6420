# Kept by cmd/soak as the reproduction of what its ENet churn found (docs/PERF.md,
# "Soak (issue 17)"): a new client host at the address of a dead one, while
# the server still holds the dead one's peer, either gets the packets sent to
# the dead one as its own or cannot connect (libenet 1.3.17, no gonetic code).
# Run: /usr/bin/python3 cmd/soak/testdata/enet_port_reuse.py [port] [trials]
# Does a new ENet client on the address of a dead one receive the dead
# one's packets? Server S sends reliable packets to each peer, tagged with
# the peer's name; client A (port P) vanishes without a disconnect; client
# B binds port P and connects; count what B gets that was A's.
import enet, sys, time
P = int(sys.argv[1]) if len(sys.argv) > 1 else 39123
trials = int(sys.argv[2]) if len(sys.argv) > 2 else 8
foreign_total = 0
for trial in range(trials):
    S = enet.Host(enet.Address(b"127.0.0.1", 0), 64, 1, 0, 0)
    sport = S.address.port
    def pump(h, t=0):
        ev = h.service(t)
        out = []
        while ev is not None and ev.type != enet.EVENT_TYPE_NONE:
            out.append(ev)
            ev = h.check_events()
        return out
    speers = {}
    def serve(dt=0.01, rounds=1):
        for _ in range(rounds):
            for ev in pump(S, int(dt*1000)):
                if ev.type == enet.EVENT_TYPE_CONNECT:
                    speers[ev.peer.incomingPeerID] = [ev.peer, None, 0]
                elif ev.type == enet.EVENT_TYPE_RECEIVE:
                    speers[ev.peer.incomingPeerID][1] = ev.packet.data
    # a few earlier peers so that slots and session ids vary
    for k in range(trial % 4):
        X = enet.Host(None, 1, 1, 0, 0)
        xp = X.connect(enet.Address(b"127.0.0.1", sport), 1)
        for _ in range(50):
            serve(); pump(X)
        xp.disconnect_now(0); pump(X)
        serve(0.01, 20)
    A = enet.Host(enet.Address(b"127.0.0.1", P), 1, 1, 0, 0)
    ap = A.connect(enet.Address(b"127.0.0.1", sport), 1)
    connected = False
    for _ in range(200):
        serve()
        for ev in pump(A):
            if ev.type == enet.EVENT_TYPE_CONNECT:
                connected = True
                ap.send(0, enet.Packet(b"A", enet.PACKET_FLAG_RELIABLE))
        if connected and any(v[1] == b"A" for v in speers.values()):
            break
    # S sends to A; A vanishes (its host is dropped without a word)
    for n in range(50):
        for pid, v in speers.items():
            if v[1] == b"A":
                v[0].send(0, enet.Packet(b"A-%d" % n, enet.PACKET_FLAG_RELIABLE))
    serve()
    del ap; del A
    import gc; gc.collect()
    # B on the same port
    B = enet.Host(enet.Address(b"127.0.0.1", P), 1, 1, 0, 0)
    bp = B.connect(enet.Address(b"127.0.0.1", sport), 1)
    got, foreign, bconn = 0, 0, False
    t0 = time.time()
    while time.time() - t0 < 3:
        serve()
        for ev in pump(B, 5):
            if ev.type == enet.EVENT_TYPE_CONNECT:
                bconn = True
                bp.send(0, enet.Packet(b"B", enet.PACKET_FLAG_RELIABLE))
            elif ev.type == enet.EVENT_TYPE_RECEIVE:
                got += 1
                if ev.packet.data.startswith(b"A-"):
                    foreign += 1
        for pid, v in speers.items():
            if v[1] == b"B" and v[2] < 20:
                v[0].send(0, enet.Packet(b"B-%d" % v[2], enet.PACKET_FLAG_RELIABLE)); v[2] += 1
    print("trial %d: A connected %s, B connected %s, B received %d packets, %d of them A's" % (trial, connected, bconn, got, foreign))
    foreign_total += foreign
    del bp; del B; del S; gc.collect()
print("FOREIGN", foreign_total)
