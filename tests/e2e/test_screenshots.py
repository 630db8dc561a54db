"""Screenshots of the main pages at desktop and phone widths, each checked as it is taken.

The pictures land in the artifacts folder for people to look at; the checks
make sure nothing broke while taking them: no console error (a CSP refusal
is one), no sideways scrolling where the layout promises none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from frontdesk.conversations import services
from frontdesk.conversations.models import Conversation, Priority
from frontdesk.conversations.services import Upload
from tests.conftest import Personas, make_customer
from tests.conversations.helpers import open_conversation
from tests.e2e.conftest import Login, screenshot
from tests.e2e.support import ConsoleWatch, scroll_width

pytestmark = pytest.mark.e2e

DESKTOP = 1280
PHONE = 360
HEIGHT = {DESKTOP: 800, PHONE: 740}

# Customers paste these; an unbroken run of characters is the usual cause of overflow.
TRACKING_URL = (
    "https://tracking.example.com/parcels/CZ0012345678901234567890/events?lang=cs&ref=portal"
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class Desk:
    people: Personas
    main: Conversation
    note: str
    reply: str


@pytest.fixture
def desk(people: Personas) -> Desk:
    """A believable morning: conversations in several languages, a note, a reply with a file.

    Made before the browser starts: with Playwright's loop running in the test
    thread, the services' realtime pushes could not be sent.
    """
    now = timezone.now()
    somchai = make_customer("สมชาย ใจดี", "somchai@example.co.th")
    ivan = make_customer("Иван Петров", "ivan.petrov@example.ru")
    hans = make_customer("Hans-Joachim Müller-Lüdenscheidt", "hj.mueller@example.de")
    main = open_conversation(
        people.customer,
        team=people.orders,
        assignee=people.agent,
        subject="Zásilka nedorazila – objednávka 1042",
        text=f"Dobrý den, zásilka měla přijít v pondělí. Sledování: {TRACKING_URL}",
        priority=Priority.URGENT,
        tags=["courier", "vip"],
        language="cs",
        at=now - timedelta(hours=5),
    )
    note = "Courier confirms the parcel is stuck in the Brno depot; asked them to hurry."
    services.add_note(main, by=people.agent, text=note, at=now - timedelta(hours=4))
    reply = "Omlouváme se. Přikládáme štítek zásilky; kurýr ji doručí zítra dopoledne."
    services.add_reply(
        main,
        by=people.agent,
        text=reply,
        at=now - timedelta(hours=3),
        attachments=[Upload(filename="stitek-zasilky-1042.pdf", content=PDF)],
    )
    services.add_customer_message(
        main, by=None, text="Děkuji, počkám do zítřka.", at=now - timedelta(hours=2)
    )
    open_conversation(
        people.customer,
        team=people.orders,
        assignee=people.agent,
        subject="Reklamace: bota na levou nohu je o číslo menší než na pravou",
        language="cs",
        at=now - timedelta(days=2),
    )
    open_conversation(
        somchai,
        team=people.orders,
        assignee=people.agent,
        subject="พัสดุยังไม่มาถึง กรุณาตรวจสอบหมายเลขคำสั่งซื้อ 2231 ให้ด้วยครับ",
        text="สวัสดีครับ ผมสั่งสินค้าเมื่อสัปดาห์ที่แล้วแต่ยังไม่ได้รับเลย",
        priority=Priority.HIGH,
        tags=["courier"],
        language="th",
        at=now - timedelta(hours=7),
    )
    open_conversation(
        ivan,
        team=people.orders,
        assignee=people.agent,
        subject="Не могу оплатить заказ картой — ошибка 3-D Secure при подтверждении",
        text="Здравствуйте! При оплате заказа 3310 банк отклоняет платёж.",
        priority=Priority.LOW,
        tags=["payment"],
        language="ru",
        at=now - timedelta(minutes=40),
    )
    open_conversation(
        hans,
        team=people.orders,
        assignee=people.agent,
        subject="Rechnungskorrektur für Bestellung 5521 (Umsatzsteuer-Identifikationsnummer fehlt)",
        language="de",
        at=now - timedelta(days=1),
    )
    return Desk(people=people, main=main, note=note, reply=reply)


@dataclass
class Screen:
    page: Page
    console: ConsoleWatch
    width: int


@pytest.fixture(params=[DESKTOP, PHONE], ids=str)
def screen(request: pytest.FixtureRequest, browser: Browser) -> Screen:
    """A page in a browser window `width` CSS pixels wide, its console watched."""
    width: int = request.param
    page = browser.new_context(viewport={"width": width, "height": HEIGHT[width]}).new_page()
    return Screen(page=page, console=ConsoleWatch(page), width=width)


def _assert_fits(page: Page, width: int, what: str) -> None:
    assert scroll_width(page) <= width, f"{what} scrolls sideways at {width} px"


def test_workspace_screenshots(
    desk: Desk, live_server_url: str, screen: Screen, login: Login, artifacts: Path
) -> None:
    page, console, width = screen.page, screen.console, screen.width
    login(page, desk.people.agent)

    page.goto(f"{live_server_url}/inbox/")
    expect(page.locator("#inbox-list [data-row]")).to_have_count(5)
    expect(page.locator("#rail")).to_contain_text("My open")
    expect(page.get_by_role("link", name="พัสดุยังไม่มาถึง", exact=False)).to_be_visible()
    screenshot(page, artifacts, f"inbox-{width}")
    _assert_fits(page, width, "the inbox")
    assert console.take() == [], "inbox"

    page.goto(f"{live_server_url}/conversations/{desk.main.number}/")
    expect(page.locator("#thread .kind-note")).to_contain_text(desk.note)
    expect(page.locator("#thread .kind-reply")).to_contain_text(desk.reply)
    expect(page.get_by_role("link", name="stitek-zasilky-1042.pdf")).to_be_visible()
    expect(page.locator(".other-conversations")).to_contain_text("Reklamace")
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()
    screenshot(page, artifacts, f"conversation-{width}")
    _assert_fits(page, width, "the conversation page")
    others = page.locator(".other-conversations")
    assert others.evaluate("e => e.scrollWidth <= e.clientWidth"), "the sidebar's table overflows"
    assert console.take() == [], "conversation"


def test_portal_screenshots(
    desk: Desk, live_server_url: str, screen: Screen, login: Login, artifacts: Path
) -> None:
    page, console, width = screen.page, screen.console, screen.width
    login(page, desk.people.customer_user)

    page.goto(f"{live_server_url}/portal/")
    requests = page.locator(".portal-requests li")
    expect(requests).to_have_count(2)
    expect(requests.first).to_contain_text("Zásilka nedorazila")
    screenshot(page, artifacts, f"portal-{width}")
    _assert_fits(page, width, "my requests")
    assert console.take() == [], "my requests"

    page.goto(f"{live_server_url}/portal/requests/{desk.main.number}/")
    expect(page.locator(".portal-thread .from-agent")).to_contain_text(desk.reply)
    expect(page.get_by_role("link", name="stitek-zasilky-1042.pdf")).to_be_visible()
    expect(page.locator(".portal-thread")).not_to_contain_text(desk.note)
    expect(page.get_by_role("textbox", name="Your reply")).to_be_visible()
    screenshot(page, artifacts, f"portal-request-{width}")
    _assert_fits(page, width, "the request page")
    assert console.take() == [], "request page"
