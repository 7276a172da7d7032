"""Deterministic synthetic people and documents for the screening benchmark and tests.

Names are assembled from given names, particles and surname stems of several origins
(Arabic, Hispanic, English, German, Nordic, Slavic, Chinese, Indian, West African, Greek),
written with their native accents, so transliteration matters. Query variants apply what
really happens between a list and a passport: typos, dropped accents, ICAO expansions,
reordered tokens, a missing middle name, a changed birth day.
"""

from __future__ import annotations

import random
from dataclasses import replace

from kiosk.screening.matching import PartialDate
from kiosk.screening.watchlist import PersonQuery, WatchlistEntry

# origin -> given names, surname stems, surname suffixes, particles (space-separated words;
# "_" stands for an empty suffix, "~" for a space inside a particle)
_ORIGIN_WORDS: dict[str, tuple[str, str, str, str]] = {
    "ARE": (
        (
            "Mohammed Ahmed Ali Omar Yusuf Ibrahim Khalid Hassan Hussein Mustafa Tariq Samir Karim "
            "Fatima Aisha Layla Mariam Noor Zainab Huda Salma Rania Yasmin Abdullah Faisal"
        ),
        (
            "Rashid Haddad Mansour Nasser Khoury Saleh Hamdan Qasim Farouk Darwish Bakr Sabbagh "
            "Jaber Taha Zaki Ghanem Hakim Issa Kassem Obeid Sharif Tamimi Yassin Zein"
        ),
        "_ _ i eh",
        "Al El Bin Abu",
    ),
    "ESP": (
        (
            "José María Juan Carlos Luis Ángel Jesús Sofía Lucía Martín Andrés Raúl Inés Pilar "
            "Alejandro Fernando Beatriz Guillermo Ramón Teresa Joaquín Iñaki Nuria Álvaro"
        ),
        (
            "Garcí Fernánd Gonzál Rodrígu López Martín Sánch Pér Gómez Jimén Ruiz Hernánd Díaz "
            "Moreno Muñoz Álvar Romero Alons Gutiérr Navarro Torres Domíngu Vázqu Ramos"
        ),
        "ez a _ es",
        "de del de~la y",
    ),
    "GBR": (
        (
            "James John Robert Michael William David Richard Thomas Charles Christopher Daniel "
            "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Emily"
        ),
        (
            "Smith Johns Willi Brown Tayl Wils Thomps White Harr Clark Lewis Walk Wright Robins "
            "Wood Hughes Edward Green Hall Mart Jacks Turn Cart Phillip"
        ),
        "_ son s er ton",
        "O' Mc Mac",
    ),
    "DEU": (
        (
            "Jürgen Günter Jörg Klaus Hans Peter Uwe Wolfgang Björn Sören Ursula Käthe Jürgen "
            "Brigitte Gisela Heike Sabine Mathias Stefan Andreas Dieter Frauke Lutz Gerd"
        ),
        (
            "Müll Schmi Schneid Fisch Web Meyer Wagn Beck Schulz Hoffm Schäf Koch Bau Richt Kl "
            "Wolf Schröd Neum Schwarz Zimmerm Braun Krüg Hofm Hartm Lang Köhl"
        ),
        "er mann t e stein berg",
        "von van zu von~der",
    ),
    "NOR": (
        (
            "Åse Øystein Bjørn Ærling Sigurður Þór Gunnar Ingrid Astrid Sølvi Håkon Torbjørn Kjell "
            "Lars Nils Ole Rune Sigrid Tove Vidar Åsa Ægir Freyja Halldór"
        ),
        (
            "Hans Lar Niel Johan Ander Pedar Kristian Jens Mikkel Sven Gunnar Olaf Erik Arne Berg "
            "Dahl Lund Strand Holm Haug Bakk Fjeld Ås Nyg"
        ),
        "sen son dóttir ström quist gaard",
        "",
    ),
    "POL": (
        (
            "Łukasz Paweł Michał Krzysztof Tomasz Piotr Wojciech Małgorzata Agnieszka Zofia Dmitri "
            "Ivan Sergei Oleksandr Natalia Olga Svetlana Jelena Dragan Miloš Zoran Ana"
        ),
        (
            "Kowal Nowak Wiśniew Wójcik Kamiń Lewandow Zieliń Szymań Dąbrow Kozł Jankow Mazur Petr "
            "Ivan Popov Kuzn Sokol Lebed Kozl Nikol Jovan Marko Stojan Milo"
        ),
        "ski ska czyk ović enko ov ova ić",
        "",
    ),
    "CHN": (
        (
            "Wei Fang Xiu Ying Min Jing Li Qiang Lei Jun Yang Yong Yan Jie Tao Ming Chao Xia Ping "
            "Gang Hui Hong Xin Bo Zhi Hao"
        ),
        (
            "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Gao Lin Luo "
            "Zheng Liang Xie Song Tang Feng"
        ),
        "_",
        "",
    ),
    "IND": (
        (
            "Aarav Vivaan Aditya Vihaan Arjun Sai Reyansh Krishna Ishaan Rohan Priya Ananya Diya "
            "Saanvi Aadhya Kavya Lakshmi Deepika Rajesh Sunil Venkatesh Srinivas"
        ),
        (
            "Sharm Verm Gupt Patel Reddy Nair Iyer Rao Singh Kumar Chowdh Banerj Mukherj Joshi "
            "Pillai Menon Desai Mehta Kapoor Malhotr Bhatt Agarw Chatterj Das"
        ),
        "a _ ee an",
        "",
    ),
    "NGA": (
        (
            "Chinedu Oluwaseun Adebayo Emeka Ngozi Chiamaka Obinna Folake Kwame Kofi Ama Yaw Abena "
            "Kwesi Tunde Bola Segun Funmilayo Ifeoma Uche Nnamdi Zainab Amara"
        ),
        (
            "Okon Adeyem Okafor Olawal Eze Nwos Balog Mensah Asante Owusu Boateng Osei Appiah "
            "Danquah Achebe Obi Okeke Ogunlé Babatund Adeleke Ibekwe"
        ),
        "_ i u kwe",
        "",
    ),
    "GRC": (
        (
            "Geórgios Dimítrios Konstantínos Ioánnis Nikólaos Panagiótis Vasílios Christos María "
            "Eléni Aikateríni Vasilikí Sofía Angelikí Georgía Dímitra Kyriakí"
        ),
        (
            "Papadopoul Papa Vlach Angelopoul Nikolaid Georgiou Oikonom Makr Pappa Dimitri "
            "Karagianni Konstantin Antonopoul Christodoul Alexandr"
        ),
        "os ou is akis idis",
        "",
    ),
}


def _words(text: str, empty: str = "") -> list[str]:
    return [word.replace("_", empty).replace("~", " ") for word in text.split()]


_ORIGINS: dict[str, tuple[list[str], list[str], list[str], list[str]]] = {
    origin: (_words(given), _words(stems), _words(suffixes), _words(particles))
    for origin, (given, stems, suffixes, particles) in _ORIGIN_WORDS.items()
}
_NATIONALITIES = {
    "ARE": ["ARE", "SAU", "EGY", "JOR", "IRQ", "SYR"],
    "ESP": ["ESP", "MEX", "COL", "ARG", "DOM", "CUB"],
    "GBR": ["GBR", "USA", "JAM", "BRB", "TTO", "GBD"],
    "DEU": ["DEU", "AUT", "CHE"],
    "NOR": ["NOR", "SWE", "DNK", "ISL"],
    "POL": ["POL", "RUS", "UKR", "SRB"],
    "CHN": ["CHN", "TWN", "SGP"],
    "IND": ["IND", "GUY", "TTO"],
    "NGA": ["NGA", "GHA"],
    "GRC": ["GRC", "CYP"],
}
_ORIGIN_NAMES = list(_ORIGINS)
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _stem(rng: random.Random, stems: list[str]) -> str:
    """Half the time a common stem; otherwise a rarer one spliced from two stems of the same
    origin, so that, as in real lists, most surnames are shared by few people."""
    first = rng.choice(stems)
    if rng.random() < 0.5 or len(first) < 3:
        return first
    second = rng.choice(stems)
    return (
        first[: rng.randint(2, len(first) - 1)] + second[rng.randint(1, max(len(second) - 2, 1)) :]
    )


def _surname(rng: random.Random, origin: str) -> str:
    _, stems, suffixes, particles = _ORIGINS[origin]
    surname = _stem(rng, stems) + rng.choice(suffixes)
    if origin == "ESP" and rng.random() < 0.6:
        surname += " " + _stem(rng, stems) + rng.choice(suffixes)
    if particles and rng.random() < 0.2:
        particle = rng.choice(particles)
        surname = particle + surname if particle.endswith("'") else f"{particle} {surname}"
    if rng.random() < 0.08:
        surname += "-" + _stem(rng, stems) + rng.choice(suffixes)
    return surname


def person(rng: random.Random, index: int, list_name: str = "SYNTHETIC") -> WatchlistEntry:
    origin = rng.choice(_ORIGIN_NAMES)
    given = _ORIGINS[origin][0]
    given_names = " ".join(rng.choice(given) for _ in range(rng.choice((1, 1, 2, 2, 3))))
    birth = None
    if rng.random() < 0.92:
        year = rng.randint(1935, 2012)
        if rng.random() < 0.1:
            birth = PartialDate(year)
        else:
            birth = PartialDate(year, rng.randint(1, 12), rng.randint(1, 28))
    nationality = rng.choice(_NATIONALITIES[origin]) if rng.random() < 0.85 else ""
    return WatchlistEntry(
        f"{list_name}-{index}", list_name, _surname(rng, origin), given_names, birth, nationality
    )


def people(count: int, seed: int = 1) -> list[WatchlistEntry]:
    rng = random.Random(seed)
    return [person(rng, i) for i in range(count)]


def _typo(rng: random.Random, word: str) -> str:
    letters = [c for c in word]
    if len(letters) < 3:
        return word
    i = rng.randrange(1, len(letters))
    kind = rng.randrange(4)
    if kind == 0:
        letters[i] = rng.choice(_LETTERS)
    elif kind == 1:
        del letters[i]
    elif kind == 2:
        letters.insert(i, rng.choice(_LETTERS))
    elif i + 1 < len(letters):
        letters[i], letters[i + 1] = letters[i + 1], letters[i]
    return "".join(letters)


def _strip_accents(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def variant(rng: random.Random, entry: WatchlistEntry) -> PersonQuery:
    """How ``entry`` might appear on a passport: one or two realistic changes."""
    surname, given = entry.surname, entry.given_names
    birth = entry.birth_date
    for _ in range(rng.choice((1, 1, 2))):
        change = rng.randrange(6)
        if change == 0:
            surname = _typo(rng, surname)
        elif change == 1:
            given = _typo(rng, given)
        elif change == 2:
            surname, given = _strip_accents(surname), _strip_accents(given)
        elif change == 3:
            surname, given = given, surname
        elif change == 4 and " " in given:
            given = given.split(" ")[0]
        elif change == 5 and birth is not None and birth.day:
            birth = replace(birth, day=birth.month, month=birth.day) if birth.day <= 12 else birth
    if birth is None:
        birth = PartialDate(rng.randint(1935, 2012), rng.randint(1, 12), rng.randint(1, 28))
    elif not birth.day:
        birth = PartialDate(birth.year, rng.randint(1, 12), rng.randint(1, 28))
    return PersonQuery(surname, given, birth, entry.nationality)


def queries(
    entries: list[WatchlistEntry], count: int, seed: int = 2, unrelated: float = 0.3
) -> list[PersonQuery]:
    """``count`` traveller queries: variants of listed people, and a share of other people."""
    rng = random.Random(seed)
    out: list[PersonQuery] = []
    for i in range(count):
        if rng.random() < unrelated:
            other = person(rng, i, "OTHER")
            birth = other.birth_date or PartialDate(1980, 1, 1)
            out.append(PersonQuery(other.surname, other.given_names, birth, other.nationality))
        else:
            out.append(variant(rng, rng.choice(entries)))
    return out
