"""One exchange on a Unix socket, for the tests of hub.sock's first lines
(docs/socket-protocol.md): write some bytes as a connection's first, read
every byte the hub answers until it closes the connection.

As a program: sockline.py SOCKET TEXT writes TEXT (no newline added) and
prints the answer, or TIMEOUT when none ends within 5 s."""
import socket
import sys


def exchange(path, data, timeout=30):
    """The bytes answered to data until the hub closes, or None when it
    does not within timeout seconds (the connection is then closed)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(timeout)
    s.sendall(data)
    buf = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except socket.timeout:
        return None
    except ConnectionResetError:
        pass  # the hub closed with our bytes unread (an oversize line): its answer came first
    finally:
        s.close()
    return buf


if __name__ == "__main__":
    got = exchange(sys.argv[1], sys.argv[2].encode("utf-8", "surrogateescape"), 5)
    sys.stdout.write("TIMEOUT\n" if got is None else got.decode("utf-8", "replace"))
