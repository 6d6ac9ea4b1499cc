#!/usr/bin/python3
"""Plain RTP over UDP for the integration tests, with a log of exactly what
went out or came in ("SSRC SEQ" per packet: the SSRC as tshark shows it,
0x and 8 hex digits, the sequence number in decimal), to compare with a
capture.

  rtp_udp.py send --bind ADDR:PORT --to ADDR:PORT --stream SSRC:FIRST_SEQ[:PT]
                  [--stream ...] --count N [--pps R] --log FILE
      N packets per stream, streams interleaved, R packets/s in all (200);
      sequence numbers wrap at 65535 as RTP's do.
  rtp_udp.py recv --bind ADDR:PORT --seconds S --log FILE
      logs every RTP packet received for S seconds (or until SIGTERM).

Run it inside a test site namespace (nsenter --net=/run/netns/NS).
"""
import argparse
import signal
import socket
import struct
import sys
import time


def addr(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def send(args):
    streams = []
    for s in args.stream:
        parts = s.split(":")
        pt = int(parts[2]) if len(parts) > 2 else 111
        streams.append([int(parts[0], 0), int(parts[1]), pt])
    bind, to = addr(args.bind), addr(args.to)
    sock = socket.socket(family(bind[0]), socket.SOCK_DGRAM)
    sock.bind(bind)
    interval = 1.0 / args.pps
    start = time.monotonic()
    sent = 0
    with open(args.log, "w") as log:
        for i in range(args.count):
            for st in streams:
                ssrc, seq, pt = st[0], (st[1] + i) & 0xFFFF, st[2]
                ts = (i * 960) & 0xFFFFFFFF
                # 12-byte header (V=2), then a payload that names the packet.
                pkt = struct.pack("!BBHII", 0x80, pt, seq, ts, ssrc)
                pkt += struct.pack("!II", ssrc, i) + bytes(range(48))
                sock.sendto(pkt, to)
                log.write("0x%08x %d\n" % (ssrc, seq))
                sent += 1
                delay = start + sent * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
    print("sent %d packets" % sent, file=sys.stderr)


def recv(args):
    bind = addr(args.bind)
    sock = socket.socket(family(bind[0]), socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.bind(bind)
    stop = [False]

    def on_term(_sig, _frame):
        stop[0] = True

    signal.signal(signal.SIGTERM, on_term)
    sock.settimeout(0.1)
    end = time.monotonic() + args.seconds
    got = 0
    with open(args.log, "w") as log:
        while not stop[0] and time.monotonic() < end:
            try:
                pkt = sock.recv(2048)
            except socket.timeout:
                continue
            except InterruptedError:
                continue
            if len(pkt) < 12 or pkt[0] >> 6 != 2:
                continue
            seq, = struct.unpack("!H", pkt[2:4])
            ssrc, = struct.unpack("!I", pkt[8:12])
            log.write("0x%08x %d\n" % (ssrc, seq))
            log.flush()
            got += 1
    print("received %d packets" % got, file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--bind", required=True)
    s.add_argument("--to", required=True)
    s.add_argument("--stream", action="append", required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--pps", type=float, default=200.0)
    s.add_argument("--log", required=True)
    r = sub.add_parser("recv")
    r.add_argument("--bind", required=True)
    r.add_argument("--seconds", type=float, required=True)
    r.add_argument("--log", required=True)
    args = p.parse_args()
    send(args) if args.cmd == "send" else recv(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
