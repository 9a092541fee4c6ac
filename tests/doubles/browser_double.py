"""BrowserDouble: what the user's browser does with the login URL the GUI opens.

It follows the hosted UI's redirects (to the loopback callback, by the name `localhost`
as a browser would) and records where it went; `refuse` plays a machine with no browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

MAX_REDIRECTS = 5


@dataclass
class BrowserDouble:
    refuse: bool = False
    visited: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def open(self, url: str) -> bool:
        if self.refuse:
            return False
        with httpx.Client(follow_redirects=False, timeout=10.0) as http:
            for _ in range(MAX_REDIRECTS):
                self.visited.append(url)
                response = http.get(url)
                self.statuses.append(response.status_code)
                if not response.is_redirect:
                    break
                url = str(response.next_request.url) if response.next_request else url
        return True
