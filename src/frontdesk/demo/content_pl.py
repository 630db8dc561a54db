"""Polish demo content. Agents write in the plural ("sprawdziliśmy"), as Polish shops do."""

from __future__ import annotations

import random

from frontdesk.demo.content import CompanyInfo, LanguagePack, Scenario, grouped

SCENARIOS = (
    Scenario(
        kind="where_is_order",
        subject="Gdzie jest moje zamówienie {order}?",
        opening=(
            "Dzień dobry, [[złożyłem|złożyłam]] zamówienie {order} ponad tydzień temu, a w "
            "śledzeniu przesyłki nadal widnieje status „etykieta utworzona”. Słuchawki są mi "
            "potrzebne przed wyjazdem. Czy mogą Państwo sprawdzić, gdzie jest paczka?"
        ),
        reply=(
            "Dzień dobry,\n\ndziękujemy za wiadomość. Sprawdziliśmy przesyłkę u przewoźnika: "
            "została przekazana z opóźnieniem z powodu zaległości w magazynie, ale jest już w "
            "drodze i powinna dotrzeć w ciągu dwóch dni roboczych. Będziemy ją obserwować i damy "
            "znać, gdyby coś się zmieniło.\n\nPozdrawiam serdecznie\n{agent}"
        ),
        follow_up=(
            "Dziękuję, ale status od wczoraj się nie zmienił. Czy paczka na pewno opuściła magazyn?"
        ),
        second_reply=(
            "Dzień dobry,\n\nrzeczywiście brakowało jednego skanu u przewoźnika. Zadzwoniliśmy do "
            "oddziału: paczka jest już w samochodzie kuriera i zostanie doręczona jutro do "
            "południa. Jeśli nie dotrze, wystarczy odpisać na tę wiadomość, a wyślemy nowy "
            "egzemplarz kurierem ekspresowym na nasz koszt.\n\n{agent}"
        ),
        notes=(
            "[[Sprawdziłem|Sprawdziłam]] u przewoźnika: opóźnione przekazanie z magazynu, dotyczy "
            "ok. 40 paczek.",
            "Obiecana wysyłka ekspresowa, jeśli paczka nie dotrze jutro. Do sprawdzenia w piątek.",
        ),
    ),
    Scenario(
        kind="delivery_delay",
        subject="Niedotrzymany termin dostawy – zamówienie {order}",
        opening=(
            "Na stronie obiecano dostawę zamówienia {order} do wtorku. Jest piątek, nikt nie "
            "zadzwonił, a ja [[wziąłem|wzięłam]] dzień urlopu, żeby czekać na kuriera. To jest "
            "naprawdę nie do przyjęcia."
        ),
        reply=(
            "Dzień dobry,\n\nbardzo przepraszamy, to nie powinno się zdarzyć. Szafa utknęła w "
            "sortowni z powodu uszkodzonej palety. Dostawa została przełożona na poniedziałek "
            "w godzinach 8:00–12:00, a kierowca zadzwoni pół godziny wcześniej. W ramach "
            "przeprosin zwróciliśmy koszt dostawy.\n\nZ pozdrowieniami\n{agent}"
        ),
        follow_up="Poniedziałek rano mi pasuje. Dziękuję za zwrot kosztów dostawy.",
        second_reply=(
            "Świetnie, w takim razie poniedziałek. Dodaliśmy dla kierowcy prośbę o telefon przed "
            "przyjazdem. Miłego weekendu!\n\n{agent}"
        ),
        notes=(
            "Dostawa dwuosobowa, sortownia zgłosiła uszkodzoną paletę. Koszt dostawy zwrócony "
            "jako gest dobrej woli.",
        ),
    ),
    Scenario(
        kind="wrong_item",
        subject="Dostarczono zły rozmiar kurtki",
        opening=(
            "[[Zamówiłem|Zamówiłam]] kurtkę przeciwdeszczową w rozmiarze M (zamówienie {order}), "
            "ale na metce w środku jest XL. Opakowanie było oznaczone jako M, więc chyba pomylono "
            "etykiety w magazynie. Jak mogę ją wymienić?"
        ),
        reply=(
            "Dzień dobry,\n\nprzepraszamy za pomyłkę. Utworzyliśmy bezpłatną wymianę – za kilka "
            "minut przyjdzie e-mail z opłaconą etykietą zwrotną. Wystarczy nadać kurtkę w "
            "dowolnym punkcie, a rozmiar M wyślemy od razu po zeskanowaniu paczki przez "
            "przewoźnika, bez czekania, aż dotrze do nas.\n\nPozdrawiam\n{agent}"
        ),
        notes=(
            "Wymiana utworzona, rozmiar M dostępny. Zgłoszono magazynowi możliwą pomyłkę w "
            "etykietach.",
        ),
    ),
    Scenario(
        kind="damaged_goods",
        subject="Serwis obiadowy dotarł potłuczony",
        opening=(
            "Dziś [[odebrałem|odebrałam]] zamówienie {order} – porcelanowy serwis na 12 osób. "
            "Trzy talerze i półmisek są potłuczone, choć karton z zewnątrz wyglądał na "
            "nienaruszony. [[Zrobiłem|Zrobiłam]] zdjęcia. Co teraz?"
        ),
        reply=(
            "Dzień dobry,\n\nbardzo nam przykro. Prosimy o przesłanie w odpowiedzi zdjęć "
            "uszkodzonych elementów oraz etykiety na kartonie. Po ich otrzymaniu wyślemy "
            "brakujące elementy; uszkodzonych nie trzeba odsyłać.\n\n{agent}"
        ),
        follow_up="Zdjęcia w załączniku. Etykieta jest trochę naderwana, ale numer widać.",
        second_reply=(
            "Dziękujemy, to wszystko, czego potrzebujemy. Trzy talerze i półmisek wyjdą od nas "
            "jeszcze dziś, numer przesyłki przyjdzie e-mailem.\n\n{agent}"
        ),
        notes=(
            "Reklamacja u przewoźnika otwarta. Brakujące elementy wysłane z magazynu.",
            "Kolejny potłuczony serwis w tym miesiącu – [[zgłosiłem|zgłosiłam]] problem z "
            "pakowaniem do logistyki.",
        ),
    ),
    Scenario(
        kind="return_request",
        subject="Zwrot butów do biegania",
        opening=(
            "Dzień dobry, [[chciałbym|chciałabym]] zwrócić buty do biegania z zamówienia {order}. "
            "Nie były noszone, są w oryginalnym pudełku, po prostu nie pasują. Czy muszę coś "
            "drukować?"
        ),
        reply=(
            "Dzień dobry,\n\noczywiście – na zwrot nienoszonych produktów jest 30 dni. W zakładce "
            "„Moje zamówienia” wystarczy wybrać „Zwróć produkty”, a potem etykietę do wydruku "
            "albo kod QR do okazania w punkcie nadań. Pieniądze wrócą w ciągu 5 dni roboczych od "
            "dotarcia zwrotu do magazynu.\n\nPozdrawiam\n{agent}"
        ),
        notes=("Zwrot w terminie, standardowa procedura.",),
    ),
    Scenario(
        kind="refund_missing",
        subject="Nadal czekam na zwrot pieniędzy",
        opening=(
            "Ponad dwa tygodnie temu [[odesłałem|odesłałam]] dwa produkty z zamówienia {order}. "
            "Według śledzenia dotarły do Państwa w zeszłym tygodniu, ale zwrotu {amount} wciąż "
            "nie ma na koncie. Proszę o sprawdzenie."
        ),
        reply=(
            "Dzień dobry,\n\ndziękujemy za cierpliwość. Zwrot dotarł, ale czekał na weryfikację "
            "dłużej, niż powinien. Właśnie go zatwierdziliśmy: kwota {amount} została dziś "
            "przelana, a bank zwykle księguje ją w ciągu 3–5 dni roboczych.\n\nZ pozdrowieniami"
            "\n{agent}"
        ),
        follow_up="Pieniądze już są. Dziękuję za pomoc.",
        second_reply=(
            "Cieszymy się, że wszystko się wyjaśniło. Jeszcze raz przepraszamy za zwłokę."
            "\n\n{agent}"
        ),
        notes=("Zwrot leżał w weryfikacji 12 dni. Przelew [[zleciłem|zleciłam]] ręcznie.",),
    ),
    Scenario(
        kind="double_charge",
        subject="Podwójne obciążenie karty",
        opening=(
            "Za zamówienie {order} karta została obciążona dwa razy po {amount}. Strona płatności "
            "się zawiesiła, więc [[kliknąłem|kliknęłam]] ponownie. Potwierdzenie zamówienia "
            "przyszło tylko jedno. Proszę o zwrot drugiej płatności."
        ),
        reply=(
            "Dzień dobry,\n\nwidzimy obie transakcje. Druga to tylko autoryzacja, z której nie "
            "powstało zamówienie. Zwykle zwalnia się sama, ale poprosiliśmy operatora płatności "
            "o natychmiastowe anulowanie. W zależności od banku blokada zniknie w ciągu kilku "
            "dni; nie trzeba nic więcej robić.\n\n{agent}"
        ),
        notes=(
            "Zdublowana autoryzacja anulowana w panelu operatora. Zawieszona strona to znany "
            "problem z limitem czasu 3-D Secure.",
        ),
    ),
    Scenario(
        kind="invoice_request",
        subject="Prośba o fakturę VAT do zamówienia {order}",
        opening=(
            "Dzień dobry, proszę o wystawienie faktury VAT do zamówienia {order}. To zakup "
            "firmowy – dane firmy i NIP są w moim koncie, ale [[dodałem|dodałam]] je dopiero po "
            "złożeniu zamówienia."
        ),
        reply=(
            "Dzień dobry,\n\nfaktura {invoice} została wystawiona na dane firmy z konta. Plik PDF "
            "jest dostępny w zakładce „Moje zamówienia” i można go pobrać w dowolnym momencie."
            "\n\nPozdrawiam\n{agent}"
        ),
        notes=("Faktura wystawiona z NIP-em, paragon anulowany.",),
    ),
    Scenario(
        kind="invoice_error",
        subject="Błędny NIP na fakturze {invoice}",
        opening=(
            "Na fakturze {invoice} jest literówka w NIP-ie – zamienione dwie cyfry. Księgowość "
            "nie może jej zaksięgować. Prawidłowy numer jest w profilu firmy. Proszę o korektę."
        ),
        reply=(
            "Dzień dobry,\n\ndziękujemy za zgłoszenie. Wystawionej faktury nie można zmienić, "
            "dlatego przygotowaliśmy fakturę korygującą z prawidłowym NIP-em. Dokument jest już "
            "dostępny w koncie w zakładce „Faktury”.\n\nZ pozdrowieniami\n{agent}"
        ),
        follow_up="Korekta dotarła, księgowa potwierdza, że wszystko się zgadza. Dziękuję.",
        second_reply="Dziękujemy za potwierdzenie. Miłego dnia!\n\n{agent}",
        notes=("Błąd przy ręcznym przepisywaniu NIP-u. Korekta wystawiona tego samego dnia.",),
    ),
    Scenario(
        kind="device_fault",
        subject="Robot sprzątający nie wraca do stacji",
        opening=(
            "Robot sprzątający kupiony u Państwa kilka miesięcy temu od paru dni nie wraca do "
            "stacji dokującej. Kręci się w kółko, a potem staje z rozładowaną baterią. "
            "[[Wyczyściłem|Wyczyściłam]] czujniki zgodnie z instrukcją. Czy to podlega gwarancji?"
        ),
        reply=(
            "Dzień dobry,\n\nprzykro nam z powodu kłopotu. Skoro czujniki są czyste, prosimy "
            "jeszcze o jedną próbę: przytrzymać przycisk „Home” przez 10 sekund, aż robot "
            "zapiszczy – to przywraca kalibrację stacji. Jeśli to nie pomoże, zorganizujemy "
            "bezpłatny odbiór do serwisu w ramach gwarancji.\n\n{agent}"
        ),
        follow_up="Reset nic nie dał, robot nadal jeździ w kółko.",
        second_reply=(
            "Dziękujemy za sprawdzenie. Kurier odbierze robota w czwartek, szczegóły przyjdą "
            "e-mailem. Wystarczy zapakować go w dowolny wytrzymały karton – oryginalne "
            "opakowanie nie jest potrzebne. Naprawa trwa zwykle około tygodnia.\n\n{agent}"
        ),
        notes=(
            "Zamówienie {order}, gwarancja ważna. Prawdopodobnie uszkodzony czujnik "
            "podczerwieni w stacji.",
        ),
        product_area="home",
    ),
    Scenario(
        kind="account_access",
        subject="Nie mogę się zalogować",
        opening=(
            "Od rana nie mogę zalogować się na konto. Trzy razy [[prosiłem|prosiłam]] o reset "
            "hasła, ale e-mail nie przychodzi, nawet do spamu. Muszę pobrać fakturę."
        ),
        reply=(
            "Dzień dobry,\n\nsprawdziliśmy logi poczty: serwer odbiorcy odrzucił wiadomości, bo "
            "przyszło ich kilka w krótkim czasie. Blokada została zdjęta i przed chwilą wysłaliśmy "
            "nowy link, ważny przez godzinę. Jeśli nie dotrze w ciągu kilku minut, prosimy o "
            "odpowiedź – wyślemy fakturę bezpośrednio.\n\n{agent}"
        ),
        follow_up="Tym razem doszło, już jestem [[zalogowany|zalogowana]]. Dzięki!",
        second_reply="Super, cieszymy się. Miłego dnia!\n\n{agent}",
        notes=("Serwer pocztowy klienta zwracał „rate limited”. Adres usunięty z listy blokad.",),
    ),
    Scenario(
        kind="cancel_order",
        subject="Anulowanie zamówienia {order}",
        opening=(
            "Dziś rano przez pomyłkę [[zamówiłem|zamówiłam]] drugi raz ten sam czajnik. Czy można "
            "anulować zamówienie {order}, zanim zostanie wysłane?"
        ),
        reply=(
            "Dzień dobry,\n\ngotowe – zamówienie czekało jeszcze na spakowanie, więc zostało "
            "anulowane. Kwota {amount} była tylko zablokowana na karcie i zostanie zwolniona w "
            "ciągu kilku dni.\n\nPozdrawiam\n{agent}"
        ),
        notes=("Anulowane przed kompletacją, zwrot pieniędzy niepotrzebny.",),
    ),
    Scenario(
        kind="complaint",
        subject="Skarga na kuriera",
        opening=(
            "Kurier nawet nie zadzwonił domofonem – zostawił paczkę pod bramą, w deszczu. Na "
            "zdjęciu w śledzeniu przesyłki widać to dokładnie. Jestem Państwa "
            "[[klientem|klientką]] od lat i oczekuję lepszej obsługi."
        ),
        reply=(
            "Dzień dobry,\n\nrozumiemy zdenerwowanie i bardzo przepraszamy. Zgłosiliśmy sprawę "
            "firmie kurierskiej wraz ze zdjęciem. Czy zawartość paczki nie ucierpiała? Jeśli coś "
            "zamokło, natychmiast wyślemy nowy egzemplarz.\n\n{agent}"
        ),
        follow_up=(
            "Wszystko było w folii, więc nic się nie stało. Ale proszę, żeby to się nie powtórzyło."
        ),
        second_reply=(
            "Dziękujemy za informację i cieszymy się, że nic się nie zniszczyło. Firma kurierska "
            "potwierdziła rozmowę z kierowcą, a do konta dodaliśmy adnotację, by przesyłki były "
            "zawsze doręczane do rąk własnych.\n\n{agent}"
        ),
        notes=(
            "Skarga złożona u przewoźnika. Wieloletni klient – przy kolejnym zgłoszeniu "
            "zaproponować kupon.",
        ),
        extra_tags=("delivery",),
    ),
    Scenario(
        kind="praise",
        subject="Podziękowanie za szybką pomoc",
        opening=(
            "[[Chciałem|Chciałam]] po prostu podziękować. Wczoraj [[dzwoniłem|dzwoniłam]] w "
            "sprawie zepsutego blendera, a dziś rano nowy już był u mnie. Świetna obsługa!"
        ),
        reply=(
            "Dzień dobry,\n\nserdecznie dziękujemy za miłe słowa – takie wiadomości bardzo nas "
            "cieszą. Przekażemy je kolegom z magazynu, dzięki którym wymiana poszła tak sprawnie."
            "\n\nWszystkiego dobrego\n{agent}"
        ),
        notes=("Przekazane kierownikowi magazynu.",),
    ),
)


def _phone(rng: random.Random) -> str:
    head = f"{rng.choice('567')}{rng.randint(0, 99):02d}"
    return f"+48 {head} {rng.randint(0, 999):03d} {rng.randint(0, 999):03d}"


def _money(rng: random.Random) -> str:
    return f"{grouped(rng.randint(39, 2400), chr(0xA0))},{rng.choice((0, 49, 99)):02d} zł"


def _invoice(rng: random.Random) -> str:
    return f"FV/{rng.randint(1000, 9999)}/{rng.randint(1, 12):02d}"


PACK = LanguagePack(
    code="pl",
    scenarios=SCENARIOS,
    female_names=(
        "Anna",
        "Katarzyna",
        "Magdalena",
        "Agnieszka",
        "Joanna",
        "Małgorzata",
        "Ewa",
        "Zofia",
        "Natalia",
        "Aleksandra",
    ),
    male_names=(
        "Piotr",
        "Krzysztof",
        "Tomasz",
        "Paweł",
        "Michał",
        "Marcin",
        "Jakub",
        "Łukasz",
        "Andrzej",
        "Grzegorz",
    ),
    surnames=(
        ("Nowak", "Nowak"),
        ("Kowalski", "Kowalska"),
        ("Wiśniewski", "Wiśniewska"),
        ("Wójcik", "Wójcik"),
        ("Kamiński", "Kamińska"),
        ("Lewandowski", "Lewandowska"),
        ("Zieliński", "Zielińska"),
        ("Szymański", "Szymańska"),
        ("Dąbrowski", "Dąbrowska"),
        ("Kozłowski", "Kozłowska"),
        ("Mazur", "Mazur"),
        ("Krawczyk", "Krawczyk"),
    ),
    companies=(
        CompanyInfo("Piekarnia Złoty Kłos sp. z o.o.", "zlotyklos.example", key_account=True),
        CompanyInfo("Kancelaria Nowak i Wspólnicy", "nowak-kancelaria.example"),
        CompanyInfo("Meble Lipa sp.j.", "meblelipa.example"),
        CompanyInfo("Przychodnia Zdrowie", "przychodnia-zdrowie.example"),
        CompanyInfo("Drukarnia Wisła", "drukarniawisla.example"),
    ),
    mail_domain="poczta.example",
    time_zone="Europe/Warsaw",
    phone=_phone,
    money=_money,
    invoice=_invoice,
)
