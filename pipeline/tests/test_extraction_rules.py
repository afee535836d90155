"""The offline rules on everyday language: what a clause states, about whom, and what it ends."""

from __future__ import annotations

import pytest

from pipeline.extraction.rules import facts_in


def contents(text: str, context: dict | None = None) -> list[str]:
    return [fact.content for fact in facts_in(text, context=context) if not fact.ends]


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        (
            "so I just started a new job at a logistics startup called Fleetwise, "
            "I'm their first data engineer",
            ["The user works at Fleetwise.", "The user works as a data engineer."],
        ),
        (
            "I'm a backend dev over at Allegro",
            ["The user works as a backend dev.", "The user works at Allegro."],
        ),
        (
            "my partner Zofia is a nurse",
            ["The user's partner is Zofia.", "Zofia works as a nurse."],
        ),
        ("honestly I moved to Gdansk last spring", ["The user lives in Gdansk."]),
        ("it's official i switched to biochemistry!!", ["The user studies biochemistry."]),
        ("I'm allergic to peanuts", ["The user is allergic to peanuts."]),
        ("we adopted a cat named Miso", ["The user has a cat called Miso."]),
        ("I'm vegetarian", ["The user is vegetarian."]),
        ("hi, i'm maria!", ["The user's name is Maria."]),
        (
            "morning! quick one, I'm Dev, I run the data platform team at a fintech",
            ["The user's name is Dev."],
        ),
        ("I'm a dev at Flipkart", ["The user works at Flipkart.", "The user works as a dev."]),
        (
            "I work as a nurse at the children's hospital in Porto.",
            ["The user works at Children's Hospital.", "The user works as a nurse."],
        ),
        (
            "I just started as a data engineer at Acme in Rotterdam.",
            ["The user works at Acme.", "The user works as a data engineer."],
        ),
        (
            "Just started a new job as a nurse at St. Mary's last week!",
            ["The user works at St. Mary's.", "The user works as a nurse."],
        ),
        ("Starting Monday I'll be working remotely for Stripe.", ["The user works at Stripe."]),
        ("Dr. Okafor said I should rest. I work at Acme.", ["The user works at Acme."]),
        ("I've been a teacher for ten years.", ["The user works as a teacher."]),
        ("My sister lives in Toronto.", ["The user's sister lives in Toronto."]),
        ("I don't drink alcohol.", ["The user doesn't drink alcohol."]),
        (  # "switched to matcha": no field of study
            "btw I stopped drinking coffee last month, switched to matcha",
            ["The user doesn't drink coffee."],
        ),
        ("I recently got into pottery.", ["The user enjoys pottery."]),
        ("My brother works at Google now.", ["The user's brother works at Google."]),
        ("my mum was diagnosed with diabetes", ["The user's mum has diabetes."]),
        ("I'm a big fan of the Lakers.", ["The user likes Lakers."]),
        (
            "I'm training for the Berlin marathon in September.",
            ["The user is training for the Berlin marathon."],
        ),
        (
            "I graduated from MIT in 2019 with a degree in physics.",
            ["The user has a degree in physics.", "The user graduated from MIT."],
        ),
    ],
)
def test_facts_said_in_passing_are_found(said, expected):
    assert contents(said) == expected


@pytest.mark.parametrize(
    "said",
    [
        "I switched to Linux last year",
        "I'm Polish",  # where they are from, not their name
        "I'm Canadian btw",
        "I'm anxious",
        "hey, quick one. I'm trying to plan my week and I'm kind of overwhelmed",
    ],
)
def test_what_is_no_fact_gives_none(said):
    assert contents(said) == []


def test_methods_and_experiences_have_their_own_kinds():
    (method,) = facts_in("I always run the tests before pushing")
    (trip,) = facts_in("I've been to Japan twice")

    assert (method.kind, method.content) == (
        "METHOD",
        "The user always runs the tests before pushing.",
    )
    assert (trip.kind, trip.content) == ("EXPERIENCE", "The user has been to Japan (twice).")


def test_he_or_she_means_the_person_named_last_in_the_conversation():
    context: dict = {}

    first = contents("my brother Tomek lives in Oslo", context)
    then = contents("he's a chef actually, works crazy hours", context)

    assert first == ["The user's brother is Tomek.", "Tomek lives in Oslo."]
    assert then == ["Tomek works as a chef."]


@pytest.mark.parametrize("said", ["I quit my job at Fleetwise", "I left Fleetwise last week"])
def test_leaving_a_job_ends_the_employer(said):
    (ended,) = facts_in(said)

    assert ended.ends
    assert (ended.topic, ended.value) == ("employer", "Fleetwise")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My colleague Omar is allergic to peanuts, and he runs the billing migration.", []),
        ("He's allergic to dogs.", []),
        ("Turns out I am very allergic to cats.", ["The user is allergic to cats."]),
        ("Allergic to penicillin, by the way.", ["The user is allergic to penicillin."]),
        ("Omar is allergic to peanuts.", ["Omar is allergic to peanuts."]),
        ("My sister is allergic to cats.", ["The user's sister is allergic to cats."]),
    ],
)
def test_an_allergy_is_the_users_only_when_nobody_else_is_its_subject(text, expected):
    assert contents(text) == expected
