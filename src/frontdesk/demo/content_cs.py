"""Czech demo content. Agents write in the plural ("ověřili jsme") and address customers
formally without past-tense forms that would need the customer's gender."""

from __future__ import annotations

import random

from frontdesk.demo.content import CompanyInfo, LanguagePack, Scenario, grouped

SCENARIOS = (
    Scenario(
        kind="where_is_order",
        subject="Kde je moje objednávka {order}?",
        opening=(
            "Dobrý den, objednávku {order} jsem [[zadal|zadala]] před devíti dny a sledování "
            "zásilky pořád ukazuje jen „štítek vytvořen“. Reproduktor potřebuji do soboty jako "
            "dárek. Můžete prosím zjistit, kde balík je?"
        ),
        reply=(
            "Dobrý den,\n\nděkujeme za zprávu. Ověřili jsme to u dopravce: zásilka byla kvůli "
            "zpoždění ve skladu předána později, ale už je na cestě a měla by dorazit do dvou "
            "pracovních dnů. Budeme ji dál sledovat a ozveme se, kdyby se něco změnilo.\n\nS "
            "pozdravem\n{agent}"
        ),
        follow_up=(
            "Děkuji, ale stav se od včerejška nezměnil. Jste si jistí, že balík opravdu opustil "
            "sklad?"
        ),
        second_reply=(
            "Dobrý den,\n\nu dopravce skutečně chybělo jedno skenování. Volali jsme na depo a "
            "potvrdili nám, že balík je naložený a doručí ho zítra dopoledne. Pokud nedorazí, "
            "stačí odpovědět na tuto zprávu a pošleme náhradu expresně na naše náklady."
            "\n\n{agent}"
        ),
        notes=(
            "Dopravce potvrdil pozdní předání ze skladu, týká se asi 40 balíků.",
            "Slíbena expresní náhrada, pokud zítra nedorazí – zkontrolovat v pátek.",
        ),
    ),
    Scenario(
        kind="delivery_delay",
        subject="Nedodržený termín doručení – objednávka {order}",
        opening=(
            "Na webu jste slibovali doručení objednávky {order} do úterý. Je pátek, nikdo se "
            "neozval a já jsem si kvůli kurýrovi [[vzal|vzala]] den dovolené. Tohle je opravdu "
            "nepřijatelné."
        ),
        reply=(
            "Dobrý den,\n\nomlouváme se, tohle se nemělo stát. Pohovka uvízla na překladišti "
            "kvůli poškozené paletě. Doručení jsme přeplánovali na pondělí mezi 8. a 12. hodinou "
            "a řidič zavolá půl hodiny předem. Jako omluvu vracíme poplatek za dopravu.\n\nS "
            "pozdravem\n{agent}"
        ),
        follow_up="Pondělí dopoledne mi vyhovuje. Děkuji za vrácení poplatku.",
        second_reply=(
            "Výborně, tedy v pondělí. Řidiči jsme poznamenali, aby předem zavolal. Hezký víkend!"
            "\n\n{agent}"
        ),
        notes=(
            "Doručení dvěma osobami, překladiště nahlásilo poškozenou paletu. Poplatek za "
            "dopravu vrácen jako gesto.",
        ),
    ),
    Scenario(
        kind="wrong_item",
        subject="Přišla špatná velikost bundy",
        opening=(
            "[[Objednal|Objednala]] jsem bundu ve velikosti M (objednávka {order}), ale na "
            "cedulce uvnitř je XL. Obal byl označený jako M, takže to asi spletli ve skladu. Jak "
            "ji můžu vyměnit?"
        ),
        reply=(
            "Dobrý den,\n\nomlouváme se za záměnu. Založili jsme bezplatnou výměnu: během pár "
            "minut vám přijde e-mail s předplaceným štítkem. Bundu stačí odevzdat na kterémkoli "
            "výdejním místě a velikost M odešleme hned, jak dopravce zásilku naskenuje.\n\nS "
            "pozdravem\n{agent}"
        ),
        notes=("Výměna založena, M skladem. Sklad upozorněn na možnou záměnu štítků.",),
    ),
    Scenario(
        kind="damaged_goods",
        subject="Lampa dorazila rozbitá",
        opening=(
            "Dnes mi přišla stojací lampa z objednávky {order} a skleněné stínidlo je prasklé. "
            "Krabice zvenku vypadala v pořádku. Mám fotky. Co mám dělat?"
        ),
        reply=(
            "Dobrý den,\n\nje nám to líto. Pošlete nám prosím v odpovědi fotky poškození a štítku "
            "na krabici. Jakmile je budeme mít, pošleme nové stínidlo a to rozbité si kurýr "
            "zdarma vyzvedne.\n\n{agent}"
        ),
        follow_up="Fotky posílám v příloze. Štítek je trochu potrhaný, ale číslo je čitelné.",
        second_reply=(
            "Děkujeme, to nám stačí. Nové stínidlo odchází ještě dnes a kurýr si při doručení "
            "vezme to poškozené. Číslo zásilky vám přijde e-mailem.\n\n{agent}"
        ),
        notes=(
            "Reklamace u dopravce založena. Náhradní stínidlo odesláno ze skladu.",
            "Už třetí prasklé stínidlo od stejného dodavatele – [[předal|předala]] jsem to nákupu.",
        ),
    ),
    Scenario(
        kind="return_request",
        subject="Vrácení kotníkových bot",
        opening=(
            "Dobrý den, [[chtěl|chtěla]] bych vrátit kotníkové boty z objednávky {order}. "
            "Nejsou nošené, jsou v původní krabici, jen mi nesedí. Musím něco tisknout?"
        ),
        reply=(
            "Dobrý den,\n\nsamozřejmě, nenošené zboží můžete vrátit do 30 dnů. V sekci „Moje "
            "objednávky“ zvolte „Vrátit zboží“ a vyberte buď štítek k tisku, nebo QR kód, který "
            "ukážete na výdejním místě. Peníze vrátíme do 5 pracovních dnů od doručení zásilky k "
            "nám.\n\nS pozdravem\n{agent}"
        ),
        notes=("Vrácení v rámci 30denní lhůty, standardní postup.",),
    ),
    Scenario(
        kind="refund_missing",
        subject="Stále čekám na vrácení peněz",
        opening=(
            "Před více než dvěma týdny jsem [[poslal|poslala]] zpět dvě položky z objednávky "
            "{order}. Podle sledování k vám dorazily minulý týden, ale {amount} mi zatím "
            "nepřišlo. Můžete to prosím prověřit?"
        ),
        reply=(
            "Dobrý den,\n\nděkujeme za trpělivost. Vratka dorazila, ale čekala na kontrolu déle, "
            "než měla. Právě jsme ji schválili: částka {amount} byla dnes odeslána a na účtu se "
            "obvykle objeví do 3–5 pracovních dnů.\n\nS pozdravem\n{agent}"
        ),
        follow_up="Peníze už mám na účtu. Děkuji.",
        second_reply="To rádi slyšíme. Ještě jednou se omlouváme za zdržení.\n\n{agent}",
        notes=("Vratka ležela na kontrole 12 dní, refundace zadána ručně.",),
    ),
    Scenario(
        kind="double_charge",
        subject="Platba stržena dvakrát",
        opening=(
            "Za objednávku {order} mi z karty strhli {amount} dvakrát. Platební brána zamrzla, "
            "tak jsem [[klikl|klikla]] znovu. Potvrzení objednávky mi přišlo jen jedno. Prosím o "
            "vrácení druhé platby."
        ),
        reply=(
            "Dobrý den,\n\nvidíme obě transakce. Druhá je jen blokace, ze které nevznikla "
            "objednávka. Ta se uvolní sama, ale požádali jsme platební bránu o okamžité zrušení. "
            "Podle banky zmizí z účtu během několika dní, nemusíte nic dalšího dělat.\n\n{agent}"
        ),
        notes=(
            "Duplicitní autorizace zrušena v administraci brány. Zamrznutí je známý problém s "
            "časovým limitem 3-D Secure.",
        ),
    ),
    Scenario(
        kind="invoice_request",
        subject="Prosím o fakturu na firmu k objednávce {order}",
        opening=(
            "Dobrý den, [[potřeboval|potřebovala]] bych k objednávce {order} fakturu na firmu. "
            "IČO a DIČ mám v účtu, ale [[doplnil|doplnila]] jsem je až po odeslání objednávky."
        ),
        reply=(
            "Dobrý den,\n\nvystavili jsme fakturu {invoice} s firemními údaji z vašeho účtu. PDF "
            "najdete v sekci „Moje objednávky“, kde si ho můžete kdykoli stáhnout.\n\nS "
            "pozdravem\n{agent}"
        ),
        notes=("Faktura převystavena na IČO, původní doklad stornován.",),
    ),
    Scenario(
        kind="invoice_error",
        subject="Chybná adresa na faktuře {invoice}",
        opening=(
            "Na faktuře {invoice} je naše stará adresa sídla a účetní ji takhle nemůže zaúčtovat. "
            "Nová adresa je už v profilu firmy. Můžete fakturu opravit?"
        ),
        reply=(
            "Dobrý den,\n\nděkujeme za upozornění. Vystavenou fakturu nelze upravit, proto jsme "
            "vystavili opravný daňový doklad a novou fakturu se správnou adresou. Obojí najdete v "
            "účtu v sekci „Faktury“.\n\nS pozdravem\n{agent}"
        ),
        follow_up="Dorazilo, účetní potvrzuje, že je to v pořádku. Děkuji.",
        second_reply="Děkujeme za potvrzení a přejeme hezký den.\n\n{agent}",
        notes=(
            "Faktura se generovala z uložené staré adresy. Dotaz na vývoj, zda má změna profilu "
            "měnit i otevřené objednávky.",
        ),
    ),
    Scenario(
        kind="device_fault",
        subject="Kávovar přestal hřát",
        opening=(
            "Kávovar, který jsem si u vás [[koupil|koupila]] na jaře, najednou přestal hřát. "
            "Kontrolky svítí, čerpadlo běží, ale voda je studená. Podle návodu jsem ho "
            "[[odvápnil|odvápnila]]. Vztahuje se na to záruka?"
        ),
        reply=(
            "Dobrý den,\n\nto nás mrzí. Pokud je kávovar odvápněný, vypadá to na vadné topné "
            "těleso, na které se vztahuje dvouletá záruka. Zkuste prosím ještě jednu věc: "
            "odpojte ho na deset minut ze zásuvky a pak ho zapněte s podrženým tlačítkem páry po "
            "dobu pěti sekund – tím se resetuje termostat. Pokud ani pak nehřeje, objednáme "
            "bezplatný svoz do servisu.\n\n{agent}"
        ),
        follow_up="Reset nepomohl, voda je pořád studená.",
        second_reply=(
            "Děkujeme za vyzkoušení. Svoz jsme objednali na čtvrtek, podrobnosti přijdou "
            "e-mailem. Kávovar stačí zabalit do jakékoli pevné krabice. Oprava obvykle trvá "
            "zhruba týden.\n\n{agent}"
        ),
        notes=(
            "Objednávka {order}, záruka platí. U tohoto modelu známá vada termostatu, reset "
            "málokdy pomůže.",
        ),
    ),
    Scenario(
        kind="account_access",
        subject="Nemůžu se přihlásit do účtu",
        opening=(
            "Nemůžu se přihlásit do účtu. Dnes jsem třikrát [[požádal|požádala]] o obnovení "
            "hesla, ale e-mail nepřišel, ani do spamu. Potřebuji si stáhnout fakturu."
        ),
        reply=(
            "Dobrý den,\n\nzkontrolovali jsme odesílání: váš poskytovatel e-mailů zprávy odmítl, "
            "protože jich přišlo několik rychle po sobě. Blokaci jsme zrušili a právě jsme "
            "poslali nový odkaz, platný hodinu. Pokud do pár minut nedorazí, odpovězte nám a "
            "fakturu pošleme přímo.\n\n{agent}"
        ),
        follow_up="Teď to přišlo a už jsem [[přihlášený|přihlášená]]. Díky!",
        second_reply="Skvělé, rádi jsme pomohli. Hezký den!\n\n{agent}",
        notes=("Poskytovatel vracel „rate limited“. Adresa odstraněna ze seznamu blokací.",),
    ),
    Scenario(
        kind="change_address",
        subject="Změna doručovací adresy",
        opening=(
            "Právě jsem si [[všiml|všimla]], že objednávka {order} půjde na mou starou adresu. "
            "Minulý měsíc jsem se [[přestěhoval|přestěhovala]]. Dá se adresa ještě změnit?"
        ),
        reply=(
            "Dobrý den,\n\nzásilka ještě neopustila sklad, takže to jde. Z bezpečnostních důvodů "
            "ale novou adresu nemůžeme převzít ze zprávy – upravte ji prosím v sekci „Moje "
            "objednávky“ › „Doručení“ a my zajistíme, aby se štítek před odesláním přetiskl."
            "\n\n{agent}"
        ),
        follow_up="Adresu jsem v účtu právě [[změnil|změnila]].",
        second_reply=(
            "Děkujeme, novou adresu vidíme a štítek je přetištěný. Objednávka by měla odejít "
            "ještě dnes.\n\n{agent}"
        ),
        notes=("Adresa změněna v účtu, štítek přetištěn, sklad informován.",),
    ),
    Scenario(
        kind="complaint",
        subject="Stížnost na jednání na výdejně",
        opening=(
            "Včera jsem si [[šel|šla]] na vaší výdejnu v Brně vyzvednout objednávku {order}. "
            "Pracovník u přepážky byl nepříjemný, nechal mě čekat dvacet minut a pak tvrdil, že "
            "balík neexistuje. Nakonec se našel v regálu za ním. Takhle se se zákazníky jednat "
            "nedá."
        ),
        reply=(
            "Dobrý den,\n\nděkujeme za vaši zprávu a velmi se omlouváme. Takové jednání "
            "neodpovídá tomu, jak chceme se zákazníky zacházet. Situaci jsme předali vedoucí "
            "výdejny, která ji s kolegou probere. Jako omluvu jsme vám do účtu přidali slevový "
            "kód na příští nákup.\n\n{agent}"
        ),
        notes=("Předáno vedoucí výdejny Brno. Kód na 200 Kč přidán do účtu.",),
    ),
    Scenario(
        kind="praise",
        subject="Poděkování za rychlé vyřízení",
        opening=(
            "Chci jen poděkovat. Ve středu jsem [[volal|volala]] kvůli nefunkčnímu mixéru a ve "
            "čtvrtek ráno už jsem [[měl|měla]] nový doma. Skvělá služba!"
        ),
        reply=(
            "Dobrý den,\n\nmoc děkujeme za milá slova, taková zpráva nám udělá radost. Předáme ji "
            "kolegům ze skladu, díky kterým výměna proběhla tak rychle.\n\nS pozdravem\n{agent}"
        ),
        notes=("Přeposláno vedoucímu skladu.",),
    ),
)


def _phone(rng: random.Random) -> str:
    head = f"{rng.choice('67')}{rng.randint(0, 99):02d}"
    return f"+420 {head} {rng.randint(0, 999):03d} {rng.randint(0, 999):03d}"


def _money(rng: random.Random) -> str:
    return f"{grouped(rng.randint(19, 120) * 10 + rng.choice((0, 9)), chr(0xA0))} Kč"


def _invoice(rng: random.Random) -> str:
    return f"FV-{rng.randint(100000, 999999)}"


PACK = LanguagePack(
    code="cs",
    scenarios=SCENARIOS,
    female_names=(
        "Jana",
        "Petra",
        "Lucie",
        "Tereza",
        "Kateřina",
        "Markéta",
        "Eva",
        "Veronika",
        "Hana",
        "Barbora",
    ),
    male_names=(
        "Jan",
        "Petr",
        "Tomáš",
        "Martin",
        "Jakub",
        "Lukáš",
        "Ondřej",
        "Jiří",
        "Pavel",
        "Michal",
    ),
    surnames=(
        ("Novák", "Nováková"),
        ("Svoboda", "Svobodová"),
        ("Novotný", "Novotná"),
        ("Dvořák", "Dvořáková"),
        ("Černý", "Černá"),
        ("Procházka", "Procházková"),
        ("Kučera", "Kučerová"),
        ("Veselý", "Veselá"),
        ("Horák", "Horáková"),
        ("Němec", "Němcová"),
        ("Marek", "Marková"),
        ("Pokorný", "Pokorná"),
    ),
    companies=(
        CompanyInfo("Stavebniny Horák s.r.o.", "stavebniny-horak.example", key_account=True),
        CompanyInfo("Pekárna U Mlýna", "pekarna-umlyna.example"),
        CompanyInfo("Autoservis Dvořák", "autoservis-dvorak.example"),
        CompanyInfo("Zahradnictví Kvítek s.r.o.", "kvitek.example"),
        CompanyInfo("Účetní kancelář Svoboda", "ucetni-svoboda.example"),
    ),
    mail_domain="posta.example",
    time_zone="Europe/Prague",
    phone=_phone,
    money=_money,
    invoice=_invoice,
)
