"""A bioS-style biography generator (Allen-Zhu & Li, "Physics of Language
Models 3.1"), the data the paper's biography experiment builds on.

A person has a full name, a gender, a birth date, a birth city, a
university, a major, a company and the company's city. A biography renders
one sentence per fact from several templates each, in a fixed or permuted
order, with every fact wrapped in the paper's inline field tags
(`<name>..</name>`, `<date>..</date>`, ...), so the coordinator's CSV reader
turns each tag into a QA item. Output files use the paper's CSV format (one
`text` column; prompts.csv with `field,prompt`).
"""

import csv
import dataclasses
import random
from collections.abc import Iterable

from . import pools

FIELDS = ("date", "city", "university", "major", "company", "company_city")

# The first sentence introduces the person (always first); {N} is the tagged
# name, {D} the tagged date.
INTRO_TEMPLATES = [
    "{N} was born on {D}.",
    "{N} came into this world on {D}.",
    "{N} celebrates a birthday on {D}.",
    "{N} entered life on {D}.",
]
# One template list per remaining field; {He}/{His} are the pronoun at the
# start of the sentence, {his} inside it, {X} the tagged fact.
FACT_TEMPLATES = {
    "city": [
        "{He} spent {his} early years in {X}.",
        "{He} was born in {X}.",
        "{He} grew up in {X}.",
        "{His} hometown is {X}.",
    ],
    "university": [
        "{He} received mentorship and guidance from faculty members at {X}.",
        "{He} studied at {X}.",
        "{He} graduated from {X}.",
        "{He} attended {X}.",
    ],
    "major": [
        "{He} completed {his} education with a focus on {X}.",
        "{He} majored in {X}.",
        "{He} earned a degree in {X}.",
        "{His} field of study was {X}.",
    ],
    "company": [
        "{He} had a professional role at {X}.",
        "{He} worked for {X}.",
        "{He} was employed at {X}.",
        "{He} built a career at {X}.",
    ],
    "company_city": [
        "{He} worked in {X}.",
        "{His} office was in {X}.",
        "{He} commuted to work in {X}.",
        "{He} was based in {X} for work.",
    ],
}
# The QA prompt table (the paper's prompts.csv format: {name} is the subject).
PROMPTS = {
    "date": "What is the birth date of {name}?\nAnswer:",
    "city": "What is the birth city of {name}?\nAnswer:",
    "university": "Which university did {name} attend?\nAnswer:",
    "major": "Which major did {name} study?\nAnswer:",
    "company": "Which company did {name} work for?\nAnswer:",
    "company_city": "Which city did {name} work in?\nAnswer:",
}


@dataclasses.dataclass(frozen=True)
class Person:
    name: str
    female: bool
    date: str
    city: str
    university: str
    major: str
    company: str
    company_city: str

    def fact(self, field: str) -> str:
        """The value of `field` (one of FIELDS)."""
        return getattr(self, field)


def generate_people(count: int, seed: int, exclude: Iterable[str] = ()) -> list[Person]:
    """`count` people with distinct full names (none in `exclude`), drawn
    from the pools with random.Random(seed)."""
    rng = random.Random(seed)
    taken = set(exclude)
    capacity = (len(pools.FIRST_NAMES_MALE) + len(pools.FIRST_NAMES_FEMALE)) * len(pools.LAST_NAMES)
    if count + len(taken) > capacity:
        raise ValueError(f"{count} people do not fit the name pools ({capacity} names, "
                         f"{len(taken)} taken)")
    people = []
    while len(people) < count:
        female = rng.random() < 0.5
        first = rng.choice(pools.FIRST_NAMES_FEMALE if female else pools.FIRST_NAMES_MALE)
        name = f"{first} {rng.choice(pools.LAST_NAMES)}"
        if name in taken:
            continue
        taken.add(name)
        company, company_city = rng.choice(pools.COMPANIES)
        people.append(Person(
            name=name, female=female,
            date=f"{rng.choice(pools.MONTHS)} {rng.randint(1, 28)}, {rng.randint(1950, 2004)}",
            city=rng.choice(pools.CITIES), university=rng.choice(pools.UNIVERSITIES),
            major=rng.choice(pools.MAJORS), company=company, company_city=company_city))
    return people


def _tag(field: str, text: str) -> str:
    return f"<{field}>{text}</{field}>"


def render_bio(person: Person, rng: random.Random, permute: bool = False,
               fullname: bool = False) -> str:
    """One tagged biography: the introduction, then one sentence per field
    (templates drawn with `rng`), in FIELDS order or permuted. With
    `fullname` (bioS "fullname") every sentence starts with the person's
    full name instead of a pronoun."""
    he, his = ("She", "Her") if person.female else ("He", "His")
    pronoun_his = his.lower()
    if fullname:
        he, his = person.name, person.name + "'s"
    sentences = [rng.choice(INTRO_TEMPLATES).format(N=_tag("name", person.name),
                                                    D=_tag("date", person.date))]
    fields = list(FIELDS[1:])
    if permute:
        rng.shuffle(fields)
    for field in fields:
        template = rng.choice(FACT_TEMPLATES[field])
        sentences.append(template.format(He=he, His=his, his=pronoun_his,
                                         X=_tag(field, person.fact(field))))
    return " ".join(sentences)


def qa_text(person: Person, rng: random.Random) -> str:
    """Every field of `person` as question-answer pairs in the prompt table's
    format, in random order: the reference models' pretraining teaches them
    how questions map onto biographies (bioS "mixed training")."""
    fields = list(FIELDS)
    rng.shuffle(fields)
    return "\n\n".join(f"{PROMPTS[f].format(name=person.name)} {person.fact(f)}" for f in fields)


def write_texts_csv(path: str, texts: Iterable[str]) -> None:
    """The paper's corpus CSV: a `text` header, one quoted text per row."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(["text"])
        for text in texts:
            writer.writerow([text])


def write_prompts_csv(path: str, fields: Iterable[str] = FIELDS) -> None:
    """The prompt table (`field,prompt`) for `fields`, from PROMPTS."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(["field", "prompt"])
        for field in fields:
            writer.writerow([field, PROMPTS[field]])
