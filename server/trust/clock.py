"""Clock honesty: the server's and the browser's clocks at capture, and (optionally) an NTP measurement.

A report is stored with each case (record["clock"]) and printed in the incident report, so a reader can
judge how far either clock may have been off.
"""
import socket
import struct
import time
from datetime import datetime, timezone

NTP_EPOCH = 2208988800  # seconds from 1900-01-01 to 1970-01-01


def ntp_offset(server: str, timeout: float = 3.0) -> float:
    """Offset of this computer's clock from an NTP server ("host" or "host:port"), in seconds (SNTP,
    RFC 4330): positive when the local clock is behind. Raises OSError when the server does not answer."""
    host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "123")
    packet = b"\x23" + 47 * b"\0"  # version 4, mode 3 (client)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        t1 = time.time()
        sock.sendto(packet, (host, int(port)))
        data, _ = sock.recvfrom(512)
        t4 = time.time()
    if len(data) < 48:
        raise OSError(f"short NTP answer from {server}")

    def stamp(offset):
        seconds, fraction = struct.unpack("!II", data[offset:offset + 8])
        return seconds - NTP_EPOCH + fraction / 2**32

    t2, t3 = stamp(32), stamp(40)
    return ((t2 - t1) + (t3 - t4)) / 2


def _parse_time(text) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def clock_report(record: dict, ntp: dict | None = None) -> dict:
    """Server clock, browser clock and their difference (server minus browser, in seconds), both read
    when the capture was delivered: a capture sent later from the offline queue compares the browser's
    clock at sending, never its capture time (the wait in the queue is not a clock error)."""
    server = record.get("captured_at")
    context = record.get("context") or {}
    client = context.get("sent_at_client") or (None if context.get("queued") else context.get("captured_at_client"))
    a, b = _parse_time(server), _parse_time(client)
    difference = round((a - b).total_seconds(), 3) if a and b else None
    return {"server": server, "client": client, "difference_seconds": difference,
            "timezone": (record.get("context") or {}).get("timezone"), "ntp": ntp}


def measure_ntp(server: str | None) -> dict | None:
    if not server:
        return None
    at = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    try:
        return {"server": server, "offset_seconds": round(ntp_offset(server), 3), "measured_at": at}
    except (OSError, ValueError) as error:
        return {"server": server, "offset_seconds": None, "measured_at": at, "error": str(error)}
