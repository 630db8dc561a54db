"""English demo content: a UK web shop's customers and the agents who answer them."""

from __future__ import annotations

import random

from frontdesk.demo.content import CompanyInfo, LanguagePack, Scenario

SCENARIOS = (
    Scenario(
        kind="where_is_order",
        subject="Where is my order {order}?",
        opening=(
            "Hello, I placed order {order} nine days ago and the tracking page still says "
            '"label created". I need the headphones before a trip next week. Can you tell me '
            "where the parcel actually is?"
        ),
        reply=(
            "Hi {name},\n\nthanks for getting in touch. I checked with the carrier: the parcel "
            "was handed over late because of a backlog at our warehouse, but it is now in transit "
            "and should reach you within two working days. I'll keep an eye on it and let you "
            "know if anything changes.\n\nBest regards,\n{agent}"
        ),
        follow_up=(
            "Thanks, but the tracking hasn't moved since yesterday. Are you sure it has left "
            "the warehouse?"
        ),
        second_reply=(
            "Hi {name},\n\nyou were right to ask: one of the carrier's scans was missing. I called "
            "the depot and they confirmed the parcel is on the van for delivery tomorrow before "
            "noon. If it doesn't arrive, reply here and I'll send a replacement by express at our "
            "cost.\n\n{agent}"
        ),
        notes=(
            "Carrier confirmed a late handover from the warehouse; about 40 parcels affected.",
            "Promised an express replacement if it isn't delivered tomorrow. Check on Friday.",
        ),
    ),
    Scenario(
        kind="delivery_delay",
        subject="Delivery date missed for order {order}",
        opening=(
            "Your website promised delivery of order {order} by Tuesday. It's now Friday, nobody "
            "has called, and I took a day off work to wait for the driver. This really isn't "
            "acceptable."
        ),
        reply=(
            "Hi {name},\n\nI'm sorry. You shouldn't have lost a day off because of us. The sofa "
            "was held at the regional hub after a pallet was damaged. I've rebooked the delivery "
            "for Monday between 8:00 and 12:00, and the driver will call 30 minutes ahead. As an "
            "apology I've refunded the delivery charge.\n\nKind regards,\n{agent}"
        ),
        follow_up="Monday morning works. Thank you for refunding the delivery charge.",
        second_reply=(
            "Great, Monday it is. I've added a note asking the driver to ring ahead. Have a good "
            "weekend, {name}.\n\n{agent}"
        ),
        notes=("Two-person delivery; the hub reported pallet damage. Delivery charge refunded.",),
    ),
    Scenario(
        kind="wrong_item",
        subject="Wrong size delivered",
        opening=(
            "I ordered the rain jacket in size M (order {order}) but the label inside says XL. "
            "The bag was marked M, so I think it was mislabelled in the warehouse. How do I swap "
            "it?"
        ),
        reply=(
            "Hi {name},\n\nsorry about the mix-up. I've set up a free exchange: a prepaid return "
            "label is on its way to your inbox. Drop the jacket at any parcel shop and we'll send "
            "the M as soon as the carrier scans it, so you don't have to wait for it to reach us."
            "\n\nThanks,\n{agent}"
        ),
        notes=(
            "Exchange created, size M in stock. Possible mislabelled batch reported to the "
            "warehouse.",
        ),
    ),
    Scenario(
        kind="damaged_goods",
        subject="Glass table top arrived cracked",
        opening=(
            "The coffee table from order {order} arrived today and the glass top has a long crack "
            "across one corner. The box looked fine from the outside. I've taken photos. What "
            "should I do?"
        ),
        reply=(
            "Hi {name},\n\nI'm sorry it arrived like that. Please don't try to assemble it. Could "
            "you reply with photos of the crack and of the label on the box? As soon as I have "
            "them I'll arrange a replacement top and a free collection of the damaged one."
            "\n\n{agent}"
        ),
        follow_up=(
            "Photos attached. The box label was partly torn, but I've photographed what's left."
        ),
        second_reply=(
            "Thank you, {name}, that's everything we need. A new glass top ships today and the "
            "courier will take the damaged one away when they deliver it. You'll get the tracking "
            "details by email.\n\n{agent}"
        ),
        notes=(
            "Damage claim opened with the carrier. Replacement top dispatched from stock.",
            "Third cracked top this month from the same supplier. Flagged to purchasing.",
        ),
    ),
    Scenario(
        kind="return_request",
        subject="How do I return an unwanted item?",
        opening=(
            "Hi, I'd like to return a pair of trainers from order {order}. They're unworn and "
            "still in the box, they just don't fit well. Do I need to print anything?"
        ),
        reply=(
            "Hi {name},\n\nof course. You have 30 days to return unworn items. In My orders, "
            'choose "Return items" and pick either a printable label or a QR code to show at the '
            "parcel shop. The refund goes back to your original payment method within 5 working "
            "days of the parcel reaching us.\n\nBest,\n{agent}"
        ),
        notes=("Within the return window; standard return, nothing else to do.",),
    ),
    Scenario(
        kind="refund_missing",
        subject="Still waiting for my refund",
        opening=(
            "I sent back two items from order {order} more than two weeks ago. Tracking shows you "
            "received them last week, but I still haven't seen the refund of {amount}. Could you "
            "check, please?"
        ),
        reply=(
            "Hi {name},\n\nthanks for your patience. The return did arrive, but it waited in our "
            "inspection queue longer than it should have. I've approved it now: the refund of "
            "{amount} went out today, and banks usually show it within 3 to 5 working days."
            "\n\nKind regards,\n{agent}"
        ),
        follow_up="I can see the money now. Thanks for sorting it out.",
        second_reply="Glad to hear it, {name}. Sorry again for the wait.\n\n{agent}",
        notes=("Return sat in inspection for 12 days. Refund issued by hand.",),
    ),
    Scenario(
        kind="double_charge",
        subject="Charged twice for the same order",
        opening=(
            "My card was charged {amount} twice for order {order}. The payment page froze, so I "
            "pressed the button again. I only got one order confirmation. Please refund the "
            "second payment."
        ),
        reply=(
            "Hi {name},\n\nI can see both payments. The second one is only an authorisation that "
            "never became an order. It would drop off by itself, but I've asked our payment "
            "provider to release it straight away. Depending on your bank it should disappear "
            "within a few days; there's nothing more you need to do.\n\n{agent}"
        ),
        notes=(
            "Duplicate authorisation voided in the payment dashboard. The frozen page is the "
            "known 3-D Secure timeout.",
        ),
    ),
    Scenario(
        kind="invoice_request",
        subject="VAT invoice needed for order {order}",
        opening=(
            "Could you send a VAT invoice for order {order}? It's a company purchase. The company "
            "name and VAT number are in my account now, but I added them after placing the order."
        ),
        reply=(
            "Hi {name},\n\nno problem. I've issued invoice {invoice} with the company details "
            "from your account. You can download the PDF from My orders at any time.\n\nBest "
            "regards,\n{agent}"
        ),
        notes=("Invoice reissued with the company VAT number; the old receipt is cancelled.",),
    ),
    Scenario(
        kind="invoice_error",
        subject="Wrong address on invoice {invoice}",
        opening=(
            "Invoice {invoice} shows our old office address and our accounts team can't book it "
            "like this. The new address is already in our company profile. Could you correct it?"
        ),
        reply=(
            "Hi {name},\n\nthanks for spotting that. An issued invoice can't be edited, so I've "
            "raised a credit note and a new invoice with the current address. Both are in your "
            "account under Invoices.\n\nKind regards,\n{agent}"
        ),
        follow_up="Received, thank you. Our accountant says it's fine now.",
        second_reply="Perfect, thanks for confirming, {name}.\n\n{agent}",
        notes=(
            "Invoice was built from a cached billing address. Asked the developers whether "
            "profile changes should update open orders.",
        ),
    ),
    Scenario(
        kind="device_fault",
        subject="Coffee machine stopped heating",
        opening=(
            "The espresso machine I bought from you in the spring has stopped heating. The lights "
            "come on and the pump runs, but the water stays cold. I've descaled it as the manual "
            "says. Is this covered by the warranty?"
        ),
        reply=(
            "Hi {name},\n\nsorry to hear that. As you've already descaled it, it sounds like the "
            "heating element, which the two-year warranty covers. Please try one thing first: "
            "unplug the machine for ten minutes, then switch it on while holding the steam button "
            "for five seconds. That resets the thermostat. If it still doesn't heat, tell me and "
            "I'll book a free collection for repair.\n\n{agent}"
        ),
        follow_up="The reset didn't help, the water is still cold.",
        second_reply=(
            "Thanks for trying, {name}. I've booked a courier collection for Thursday; the "
            "details are on their way by email. Any sturdy box will do, you don't need the "
            "original packaging. Repairs usually take about a week.\n\n{agent}"
        ),
        notes=(
            "Order {order}, warranty valid. Known thermostat fault on this model; the reset "
            "rarely helps.",
        ),
    ),
    Scenario(
        kind="account_access",
        subject="Can't log in, the reset email never arrives",
        opening=(
            "I can't get into my account. I've asked for a password reset three times today but "
            "the email never comes, not even to spam. I need to download an invoice."
        ),
        reply=(
            "Hi {name},\n\nI checked our mail log: your provider turned the reset emails away "
            "because several arrived in quick succession. I've cleared the block and sent a fresh "
            "link just now; it's valid for one hour. If it doesn't show up within a few minutes, "
            "reply here and I'll send you the invoice directly.\n\n{agent}"
        ),
        follow_up="Got it this time and I'm back in. Thanks!",
        second_reply="Great to hear, {name}. Have a good day!\n\n{agent}",
        notes=("The customer's mail provider answered 'rate limited'. Suppression entry cleared.",),
    ),
    Scenario(
        kind="discount_code",
        subject="Discount code not accepted at checkout",
        opening=(
            'I got a 15% birthday code by email, but the checkout says "code not valid". It '
            "should work until the end of the month."
        ),
        reply=(
            "Hi {name},\n\nthanks for letting us know. The code doesn't apply to items that are "
            "already reduced, which is why it was refused for the sale items in your basket. "
            "I've added a new code to your account under Vouchers that works on the whole basket."
            "\n\n{agent}"
        ),
        notes=(
            "Sale items are excluded by the code rules, but the error doesn't say so. Suggested a "
            "clearer message to the web team.",
        ),
    ),
    Scenario(
        kind="cancel_order",
        subject="Please cancel order {order}",
        opening=(
            "I ordered a desk lamp this morning by mistake; I already have the same one. Can you "
            "cancel order {order} before it ships?"
        ),
        reply=(
            "Hi {name},\n\ndone. The order was still waiting to be packed, so I've cancelled it. "
            "The {amount} was only reserved on your card and will be released in a few days."
            "\n\nBest,\n{agent}"
        ),
        notes=("Cancelled before picking; no refund needed, the authorisation lapses.",),
    ),
    Scenario(
        kind="change_address",
        subject="Change of delivery address",
        opening=(
            "I've just noticed that order {order} is going to my old flat. I moved last month. Is "
            "it still possible to change the delivery address?"
        ),
        reply=(
            "Hi {name},\n\nthe parcel hasn't left our warehouse yet, so yes. For your security we "
            "can't take a new address in a message; please change it under My orders > Delivery "
            "and I'll make sure the label is reprinted before dispatch.\n\n{agent}"
        ),
        follow_up="I've updated it in my account just now.",
        second_reply=(
            "Thanks, {name}. I can see the new address and the label has been reprinted. The "
            "order should go out today.\n\n{agent}"
        ),
        notes=("Customer changed the address in the account; label reprinted, warehouse told.",),
    ),
    Scenario(
        kind="complaint",
        subject="Courier left my parcel in the rain",
        opening=(
            "The courier didn't even ring the bell. He left the box on the pavement outside the "
            "gate, and by the time I found it the cardboard was soaked. The photo in the tracking "
            "shows exactly that. I expect better from a shop I've used for years."
        ),
        reply=(
            "Hi {name},\n\nI completely understand, and I'm sorry. I've reported the driver to "
            "the courier company along with the tracking photo. Could you check whether "
            "everything inside is all right? If anything was damaged by the water, I'll replace "
            "it straight away.\n\n{agent}"
        ),
        follow_up=(
            "Everything inside was wrapped in plastic, so it survived. But please make sure it "
            "doesn't happen again."
        ),
        second_reply=(
            "Thank you, {name}, I'm glad nothing was damaged. The courier company has promised to "
            "speak to the driver, and I've added a note to your account so parcels are always "
            "handed over in person.\n\n{agent}"
        ),
        notes=(
            "Complaint filed with the carrier. Long-standing customer: offer a voucher if it "
            "happens again.",
        ),
        extra_tags=("delivery",),
    ),
    Scenario(
        kind="praise",
        subject="Thank you for the quick help",
        opening=(
            "I just wanted to say thank you to your team. I called yesterday about a broken "
            "blender and the replacement was at my door this morning. Brilliant service!"
        ),
        reply=(
            "Hi {name},\n\nthank you so much for taking the time to write; it really made our "
            "day. I'll pass your message on to the warehouse team who made the quick replacement "
            "happen.\n\nAll the best,\n{agent}"
        ),
        notes=("Forwarded to the warehouse lead for the weekly shout-outs.",),
    ),
)


def _phone(rng: random.Random) -> str:
    # 07700 900000-900999 is set aside by Ofcom for fiction, so no real person is rung.
    return f"+44 7700 900{rng.randint(0, 999):03d}"


def _money(rng: random.Random) -> str:
    return f"£{rng.randint(12, 420)}.{rng.choice((0, 49, 95, 99)):02d}"


def _invoice(rng: random.Random) -> str:
    return f"INV-{rng.randint(10000, 99999)}"


PACK = LanguagePack(
    code="en",
    scenarios=SCENARIOS,
    female_names=(
        "Emma",
        "Olivia",
        "Sophie",
        "Charlotte",
        "Grace",
        "Hannah",
        "Chloe",
        "Lucy",
        "Megan",
        "Rachel",
    ),
    male_names=(
        "James",
        "Oliver",
        "Thomas",
        "Daniel",
        "Harry",
        "George",
        "Samuel",
        "Michael",
        "Ryan",
        "Jack",
    ),
    surnames=tuple(
        (name, name)
        for name in (
            "Smith",
            "Taylor",
            "Brown",
            "Wilson",
            "Evans",
            "Walker",
            "Wright",
            "Thompson",
            "Robinson",
            "Hughes",
            "Clarke",
            "Lewis",
        )
    ),
    companies=(
        CompanyInfo("Harbour & Finch Ltd", "harbourfinch.example", key_account=True),
        CompanyInfo("Greenway Dental Practice", "greenwaydental.example"),
        CompanyInfo("Northgate Builders", "northgatebuilders.example"),
        CompanyInfo("Bluebell Café Group", "bluebellcafe.example"),
        CompanyInfo("Oakridge Primary School", "oakridge-school.example"),
    ),
    mail_domain="mail.example",
    time_zone="Europe/London",
    phone=_phone,
    money=_money,
    invoice=_invoice,
)
