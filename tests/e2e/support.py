"""Helpers shared by the end-to-end flows: console watching and page checks."""

from __future__ import annotations

import time

from playwright.sync_api import ConsoleMessage, Error, Page

# Chromium reports a CSP refusal as a console error on its own; this listener
# also reports what the browser blocks silently (e.g. a violation in a worker).
_REPORT_CSP = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " " + event.blockedURI);
});
"""

# Counts this document's open websockets, so a test can wait until realtime.js
# is connected (and so subscribed: the server joins groups before accepting).
_COUNT_SOCKETS = """
(function () {
  var Native = window.WebSocket;
  window.__fdOpenSockets = 0;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener("open", function () { window.__fdOpenSockets += 1; });
      this.addEventListener("close", function () { window.__fdOpenSockets -= 1; });
    }
  };
})();
"""

# Realtime waits: a change travels server -> channel layer -> socket -> htmx GET.
REALTIME_TIMEOUT_MS = 10_000

NO_RELOAD_MARK = "__fdNoReload"


class ConsoleWatch:
    """Every console error and uncaught page error of `page`, CSP violations included."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.add_init_script(_REPORT_CSP)
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} ({message.location.get('url', '')})")

    def _on_page_error(self, error: Error) -> None:
        self.errors.append(f"pageerror: {error}")

    def take(self) -> list[str]:
        """The errors seen since the last call, and forget them."""
        seen, self.errors = self.errors, []
        return seen


def track_sockets(page: Page) -> None:
    """Count the open websockets of every document `page` loads from now on."""
    page.add_init_script(_COUNT_SOCKETS)


def wait_until_live(page: Page) -> None:
    """Wait until the page's realtime socket is open (call `track_sockets` before loading).

    Polled from here with `page.evaluate`: Playwright's `wait_for_function` compiles
    its predicate inside the page when it has to poll, which the page's CSP forbids.
    """
    deadline = time.monotonic() + REALTIME_TIMEOUT_MS / 1000
    while not page.evaluate("window.__fdOpenSockets > 0"):
        if time.monotonic() > deadline:
            raise AssertionError("the page's realtime socket did not open in time")
        page.wait_for_timeout(50)


def mark_page(page: Page) -> None:
    """Leave a mark on the current document; a reload or navigation wipes it."""
    page.evaluate(f"window.{NO_RELOAD_MARK} = true")


def still_marked(page: Page) -> bool:
    """Whether the document marked by `mark_page` is still the one shown."""
    return bool(page.evaluate(f"window.{NO_RELOAD_MARK} === true"))


def scroll_width(page: Page) -> int:
    """The document's full width in CSS pixels; above the viewport means sideways scrolling."""
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width
