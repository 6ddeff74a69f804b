"""Using a page as people do: with the mouse, or with the keyboard only."""
import re
import time

FOCUS_VISIBLE = """el => {
  const style = getComputedStyle(el);
  return el.matches(':focus-visible') &&
    ((style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) || style.boxShadow !== 'none');
}"""


class Person:
    """Clicks, types and picks options either with the mouse or by keyboard only.

    With the keyboard, every target is reached with Tab from where the focus
    is, and must show a visible focus indicator when it gets there.
    """

    def __init__(self, page, mode: str):
        assert mode in ("mouse", "keyboard")
        self.page, self.mode = page, mode

    def goto(self, url: str):
        self.page.goto(url)

    def tab_to(self, locator, limit: int = 500):
        locator.wait_for()
        target = locator.element_handle()
        for _ in range(limit):
            if self.page.evaluate("el => document.activeElement === el", target):
                assert self.page.evaluate(FOCUS_VISIBLE, target), f"no visible focus on {locator}"
                return
            self.page.keyboard.press("Tab")
        raise AssertionError(f"{locator} cannot be reached with the Tab key")

    def click(self, locator):
        if self.mode == "mouse":
            locator.click()
            return
        self.tab_to(locator)
        kind = self.page.evaluate("el => (el.type || el.tagName).toLowerCase()", locator.element_handle())
        self.page.keyboard.press("Space" if kind in ("checkbox", "radio") else "Enter")

    def fill(self, locator, value: str):
        if self.mode == "mouse":
            locator.fill(value)
            return
        self.tab_to(locator)
        self.page.keyboard.press("Control+A")
        self.page.keyboard.press("Delete")
        self.page.keyboard.type(value)

    def choose(self, locator, label: str):
        """Pick an option of a <select> by its visible text."""
        if self.mode == "mouse":
            locator.select_option(label=label)
            return
        self.tab_to(locator)
        self.page.keyboard.type(label[:12])  # type-ahead on a closed select
        chosen = locator.evaluate("el => el.options[el.selectedIndex].text")
        assert chosen == label, f"typing chose {chosen!r} instead of {label!r}"


def wait_until(page, expression: str, timeout: float = 10.0):
    """Poll a JavaScript expression (``page.wait_for_function`` would need 'unsafe-eval' in the CSP)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({expression})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout}s: {expression}")
        time.sleep(0.05)


def query_of(url: str) -> str:
    return url.split("?", 1)[1] if "?" in url else ""


def values_in(url: str, name: str) -> list[str]:
    return re.findall(rf"(?:^|&){name}=([^&]*)", query_of(url))
