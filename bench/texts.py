"""Word material for the benchmark rows: subjects, message bodies and names.

Pools are built once from a seed and reused by index, because choosing from a
list is far cheaper than composing text for each of five million rows. Nothing
here contains a tab, newline or backslash, so the strings go into COPY's text
format without escaping.
"""

from __future__ import annotations

import random

SUBJECT_TEMPLATES = (
    "Order {n} has not arrived",
    "Where is my parcel? Order {n}",
    "Refund for order {n}",
    "Wrong size delivered (order {n})",
    "Damaged item in order {n}",
    "Invoice {n} shows the wrong VAT number",
    "Cannot log in to my account",
    "Password reset link expired",
    "Return label for order {n}",
    "Exchange request: order {n}",
    "Charged twice for order {n}",
    "Question about warranty, serial {n}",
    "Product stopped working after {d} days",
    "Thank you for the quick help!",
    "Complaint about the courier",
    "Change delivery address for order {n}",
    "Cancel my subscription",
    "Discount code {n} does not work",
    "Missing part in package {n}",
    "Zamówienie {n} nie dotarło",
    "Zwrot pieniędzy za zamówienie {n}",
    "Objednávka {n} nedorazila",
    "Reklamace zboží {n}",
    "Где мой заказ {n}?",
    "Возврат средств по заказу {n}",
    "Pesanan {n} belum sampai",
    "Pengembalian dana untuk pesanan {n}",
    "คำสั่งซื้อ {n} ยังไม่ได้รับ",
    "ขอคืนเงินคำสั่งซื้อ {n}",
)

SENTENCES = (
    "Hello, I ordered last week and the tracking page has not changed since Monday.",
    "Could you please check what happened to my parcel?",
    "The box arrived crushed and the glass inside is broken.",
    "I would like to return the shoes, they are one size too small.",
    "Please refund the payment to the card I used.",
    "I was charged twice, the bank statement shows two identical payments.",
    "The invoice needs our company VAT number, it is missing.",
    "Thanks for the quick answer, that solved it.",
    "I have attached a photo of the damaged item.",
    "When can I expect the replacement to ship?",
    "The courier left the package with a neighbour I do not know.",
    "I cannot sign in; the reset link says it has expired.",
    "We have sent you a prepaid return label by email.",
    "Your refund has been approved and should reach your account in 3 to 5 working days.",
    "I am sorry for the trouble, we will send a new one today.",
    "Could you confirm the order number and the delivery address?",
    "I have escalated this to our warehouse team.",
    "The replacement is on its way, here is the new tracking number.",
    "Customer called, promised a call back tomorrow morning.",
    "Checked with billing: the duplicate charge was a pre-authorisation.",
    "Great service, thank you very much!",
    "The discount code was not applied at checkout.",
    "Dzień dobry, paczka nadal nie dotarła.",
    "Proszę o zwrot pieniędzy na moje konto.",
    "Dobrý den, zásilka dorazila poškozená.",
    "Prosím o vrácení peněz.",
    "Здравствуйте, посылка до сих пор не пришла.",
    "Прошу вернуть деньги за заказ.",
    "Halo, paket saya belum diterima sampai hari ini.",
    "Mohon bantuannya untuk pengembalian dana.",
    "สวัสดีครับ ยังไม่ได้รับพัสดุเลยครับ",
    "ขอบคุณมากสำหรับความช่วยเหลือค่ะ",
)

FIRST_NAMES = (
    "Anna", "Jan", "Maria", "Piotr", "Eva", "Tomas", "Olga", "Ivan", "Siti", "Budi",
    "Somchai", "Malee", "Emma", "Liam", "Sofia", "Noah", "Lena", "Marek", "Petra", "Dewi",
)  # fmt: skip

LAST_NAMES = (
    "Nowak", "Kowalska", "Novák", "Svobodová", "Ivanov", "Petrova", "Santoso", "Wijaya",
    "Srisuk", "Chaiyaporn", "Smith", "Jones", "Müller", "Garcia", "Rossi", "Dvořák",
)  # fmt: skip

TEAM_NAMES = (
    "Orders", "Returns", "Technical", "Billing", "Shipping", "Warranty", "Accounts",
    "Wholesale", "Marketplace", "VIP", "Poland", "Czechia", "Russia", "Indonesia",
    "Thailand", "Complaints", "Subscriptions", "Payments", "Logistics", "Escalations",
)  # fmt: skip

TAG_NAMES = (
    "refund", "return", "damaged", "late-delivery", "invoice", "vat", "login", "password",
    "warranty", "exchange", "complaint", "praise", "courier", "address-change", "discount",
    "duplicate-charge", "vip", "wholesale", "escalated", "follow-up", "missing-part",
    "subscription", "cancellation", "gift", "pre-order", "backorder", "size", "colour",
    "marketplace", "phone-callback",
)  # fmt: skip


def _clean(text: str) -> str:
    if any(ch in text for ch in "\t\n\r\\"):
        raise ValueError(f"pool text must not need COPY escaping: {text!r}")
    return text


def subject_pool(rng: random.Random, size: int) -> list[str]:
    return [
        _clean(
            rng.choice(SUBJECT_TEMPLATES).format(
                n=rng.randrange(100_000, 999_999), d=rng.randrange(2, 90)
            )
        )
        for _ in range(size)
    ]


def text_pool(rng: random.Random, size: int) -> list[str]:
    return [_clean(" ".join(rng.choices(SENTENCES, k=rng.randint(1, 4)))) for _ in range(size)]


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
