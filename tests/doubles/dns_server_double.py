"""A DNS server double on 127.0.0.1 (UDP), for TLFIF_WEBHOOK_NAMESERVER: each name answers A
queries from its list in turn, the last answer repeating, which is how a test makes a host
rebind (public, or loopback, at submit; the metadata address at send). AAAA queries get no
records; an unknown name is NXDOMAIN.
"""

from __future__ import annotations

import socket
import threading
from collections import defaultdict

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


class DnsServerDouble:
    def __init__(self) -> None:
        self._answers: dict[str, list[str]] = {}
        self.queries: defaultdict[str, int] = defaultdict(int)
        # A resolver that times out sends the same query (same id) again: one lookup, one
        # answer, whatever the retries (a loaded machine can make the first answer late).
        self._answered: dict[tuple[str, int], str] = {}
        self._lock = threading.Lock()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.port = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def answer(self, name: str, *addresses: str) -> None:
        with self._lock:
            self._answers[name.rstrip(".").lower()] = list(addresses)

    def __enter__(self) -> DnsServerDouble:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            self._socket.sendto(self._respond(query).to_wire(), peer)

    def _respond(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        with self._lock:
            known = self._answers.get(name)
            if known is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
                return response
            if question.rdtype != dns.rdatatype.A:
                return response
            address = self._answered.get((name, query.id))
            if address is None:
                self.queries[name] += 1
                address = known.pop(0) if len(known) > 1 else known[0]
                self._answered[name, query.id] = address
        response.answer.append(
            dns.rrset.from_text(question.name, 1, "IN", "A", address)  # TTL 1 s
        )
        return response
