"""Identity evolution (pipeline.evolution): the gate, the rules, curators' content, the log."""

from __future__ import annotations

import pytest
from django.utils import timezone

from memories.identity_schema import validate_identity
from memories.models import AuditAction, AuditEntry, Identity, KnowledgeType
from memories.models.lesson import LessonStatus
from memories.services import identity as identity_services
from memories.tests.factories import KnowledgeFactory, LessonFactory
from pipeline.evolution import ACTOR, evolve_identity, identity_due
from teams.actors import Actor

pytestmark = pytest.mark.django_db

CURATOR = Actor.system("curator-test")


def fact(spirit, topic: str, content: str, **kwargs):
    return KnowledgeFactory(
        spirit=spirit, knowledge_type=KnowledgeType.FACT, topic=topic, content=content, **kwargs
    )


def lesson(spirit, statement: str, confidence: float = 0.6, **kwargs):
    return LessonFactory(spirit=spirit, statement=statement, confidence=confidence, **kwargs)


def user_facts(spirit):
    return [
        fact(spirit, "name", "The user's name is Ada."),
        fact(spirit, "employer", "The user works at Acme."),
        fact(spirit, "location", "The user lives in Paris."),
        fact(spirit, "tool:editing", "The user uses Vim for editing."),
        fact(spirit, "preference:drink", "The user's favourite drink is tea."),
    ]


def revisions(spirit):
    return AuditEntry.objects.filter(
        object_type="identity", spirit_id=spirit.pk, action=AuditAction.REVISE
    ).order_by("created_at", "id")


def configure(spirit, **identity):
    spirit.config = {"identity": identity}
    spirit.save()


# --- The gate --------------------------------------------------------------------------------


def test_not_due_below_revise_after(spirit):
    items = [fact(spirit, f"t{i}", f"The user likes {i}.") for i in range(2)]
    items += [lesson(spirit, f"Always do {i}.") for i in range(2)]

    due, knowledge_ids, lesson_ids = identity_due(spirit)

    assert due is False
    assert knowledge_ids == [k.pk for k in items[:2]] and lesson_ids == [n.pk for n in items[2:]]
    assert evolve_identity(spirit_id=spirit.pk) is None
    assert not Identity.objects.filter(spirit=spirit).exists()


def test_due_at_revise_after_counting_knowledge_and_lessons(spirit):
    for i in range(3):
        fact(spirit, f"t{i}", f"The user likes {i}.")
    lesson(spirit, "Always be brief.")
    assert identity_due(spirit)[0] is False

    lesson(spirit, "Never guess.")

    assert identity_due(spirit)[0] is True


def test_revise_after_comes_from_the_spirit_config(spirit):
    configure(spirit, revise_after=2)
    fact(spirit, "t", "The user likes tea.")
    assert identity_due(spirit)[0] is False
    lesson(spirit, "Always be brief.")
    assert identity_due(spirit)[0] is True


def test_only_items_changed_since_the_last_revision_count(spirit):
    old = [fact(spirit, f"t{i}", f"The user likes {i}.") for i in range(5)]
    evolve_identity(spirit_id=spirit.pk)
    new = lesson(spirit, "Always be brief.")

    due, knowledge_ids, lesson_ids = identity_due(spirit)

    assert (due, knowledge_ids, lesson_ids) == (False, [], [new.pk])
    old[0].confidence = 0.9
    old[0].save()  # a changed item counts again
    assert identity_due(spirit)[1] == [old[0].pk]


def test_closed_and_deleted_items_do_not_count(spirit):
    fact(spirit, "a", "The user likes a.", valid_to=timezone.now())
    fact(spirit, "b", "The user likes b.", deleted_at=timezone.now())
    lesson(spirit, "Always a.", deleted_at=timezone.now())

    assert identity_due(spirit)[1:] == ([], [])


def test_disabled_config_never_evolves_even_when_forced(spirit):
    configure(spirit, enabled=False)
    user_facts(spirit)

    assert identity_due(spirit)[0] is False
    assert evolve_identity(spirit_id=spirit.pk, force=True) is None
    assert not Identity.objects.filter(spirit=spirit).exists()


def test_force_skips_the_count(spirit):
    lesson(spirit, "Always cite sources.")

    identity = evolve_identity(spirit_id=spirit.pk, force=True)

    assert identity.document["principles"] == ["Always cite sources."]


# --- The rules -------------------------------------------------------------------------------


def test_the_user_becomes_a_relationship_with_their_facts_as_notes(spirit):
    user_facts(spirit)
    fact(spirit, "capital", "Paris is the capital of France.")  # not about the user

    identity = evolve_identity(spirit_id=spirit.pk)

    assert identity.document["relationships"] == [
        {
            "name": "Ada",
            "kind": "user",
            "notes": "The user lives in Paris. The user works at Acme. "
            "The user's favourite drink is tea. The user uses Vim for editing.",
        }
    ]


def test_without_a_name_fact_the_relationship_is_the_user(spirit):
    configure(spirit, revise_after=1)
    fact(spirit, "location", "The user lives in Oslo.")

    identity = evolve_identity(spirit_id=spirit.pk)

    assert identity.document["relationships"] == [
        {"name": "the user", "kind": "user", "notes": "The user lives in Oslo."}
    ]


def test_principles_are_the_most_confident_active_lessons_deduplicated(spirit):
    lesson(spirit, "Always be kind.", confidence=0.7)
    lesson(spirit, "Never guess.", confidence=0.9)
    lesson(spirit, "always be KIND!", confidence=0.65)  # the same, normalised
    lesson(spirit, "Make sure to test.", confidence=0.4)  # below 0.5
    lesson(spirit, "Always rhyme.", confidence=0.95, status=LessonStatus.PROPOSED)
    lesson(spirit, "Always shout.", confidence=0.95, status=LessonStatus.RETIRED)

    identity = evolve_identity(spirit_id=spirit.pk)

    assert identity.document["principles"] == ["Never guess.", "Always be kind."]


def test_principles_from_lessons_are_bounded(spirit):
    for i in range(25):
        lesson(spirit, f"Always check item {i}.", confidence=0.5 + i / 100)

    principles = evolve_identity(spirit_id=spirit.pk).document["principles"]

    assert len(principles) == 20
    assert principles[0] == "Always check item 24." and principles[-1] == "Always check item 5."


def test_values_come_from_principle_knowledge(spirit):
    configure(spirit, revise_after=2)
    KnowledgeFactory(
        spirit=spirit,
        knowledge_type=KnowledgeType.PRINCIPLE,
        topic="honesty",
        content="Say what is true, even when unwelcome.",
        confidence=0.834,
    )
    KnowledgeFactory(
        spirit=spirit,
        knowledge_type=KnowledgeType.PRINCIPLE,
        topic="",
        summary="Privacy",
        content="Keep the user's data to yourself.",
        confidence=0.9,
    )

    values = evolve_identity(spirit_id=spirit.pk).document["values"]

    assert values == [
        {"name": "Privacy", "description": "Keep the user's data to yourself.", "weight": 0.9},
        {
            "name": "honesty",
            "description": "Say what is true, even when unwelcome.",
            "weight": 0.83,
        },
    ]


@pytest.mark.parametrize(
    ("statement", "style"),
    [
        ("Always be brief.", {"verbosity": "terse"}),
        ("Never give long answers.", {"verbosity": "terse"}),
        ("You should explain in detail.", {"verbosity": "detailed"}),
        ("Always keep it informal.", {"formality": "casual"}),
        ("Don't be casual with clients.", {"formality": "formal"}),
        ("Answer concisely, professionally.", {"verbosity": "terse", "formality": "formal"}),
        ("Always cite sources.", {}),
    ],
)
def test_communication_style_from_lesson_cues(spirit, statement, style):
    lesson(spirit, statement)

    identity = evolve_identity(spirit_id=spirit.pk, force=True)

    assert identity.document["communication_style"] == style


def test_the_most_confident_lesson_decides_the_style(spirit):
    lesson(spirit, "Always be brief.", confidence=0.6)
    lesson(spirit, "Always be thorough.", confidence=0.8)

    identity = evolve_identity(spirit_id=spirit.pk, force=True)

    assert identity.document["communication_style"] == {"verbosity": "detailed"}


# --- Curators' content -------------------------------------------------------------------------


def test_curators_content_is_kept_and_first(spirit):
    identity_services.identity_revise(
        spirit=spirit,
        document={
            "essence": "A patient tutor.",
            "purpose": "Teach.",
            "principles": ["Be patient.", "Never guess."],
            "values": [{"name": "Curiosity"}],
            "communication_style": {"tone": "warm", "verbosity": "detailed"},
            "relationships": [{"name": "Bob", "kind": "colleague"}],
            "current_arc": {"title": "Exams"},
        },
        actor=CURATOR,
    )
    user_facts(spirit)
    lesson(spirit, "Never guess.", confidence=0.9)  # a curator principle already
    lesson(spirit, "Always be brief.", confidence=0.8)

    document = evolve_identity(spirit_id=spirit.pk).document

    assert document["essence"] == "A patient tutor." and document["purpose"] == "Teach."
    assert document["current_arc"] == {"title": "Exams"}
    assert document["principles"] == ["Be patient.", "Never guess.", "Always be brief."]
    assert document["values"] == [{"name": "Curiosity"}]
    assert document["communication_style"] == {"tone": "warm", "verbosity": "detailed"}
    assert [r["name"] for r in document["relationships"]] == ["Bob", "Ada"]


def test_evolved_entries_that_no_longer_derive_are_dropped_but_curators_stay(spirit):
    configure(spirit, revise_after=1)
    old = lesson(spirit, "Always be brief.")
    evolve_identity(spirit_id=spirit.pk)
    identity_services.identity_revise(
        spirit=spirit,
        document={"principles": ["Be patient."]},
        actor=CURATOR,
        partial=True,
    )  # the curator replaced the list, dropping the evolved principle
    identity_services.identity_revise(
        spirit=spirit,
        document={"principles": ["Be patient.", "Always be brief."]},
        actor=CURATOR,
        partial=True,
    )  # ... and put it back: it is theirs now
    old.status = LessonStatus.RETIRED
    old.save()
    new = lesson(spirit, "Never guess.")

    document = evolve_identity(spirit_id=spirit.pk).document

    assert document["principles"] == ["Be patient.", "Always be brief.", "Never guess."]
    new.status = LessonStatus.RETIRED
    new.save()
    assert evolve_identity(spirit_id=spirit.pk).document["principles"] == [
        "Be patient.",
        "Always be brief.",
    ]


def test_a_changed_name_replaces_the_evolved_relationship(spirit):
    configure(spirit, revise_after=1)
    name = fact(spirit, "name", "The user's name is Ada.")
    evolve_identity(spirit_id=spirit.pk)
    name.valid_to = timezone.now()
    name.save()
    fact(spirit, "name", "The user's name is Grace.")

    relationships = evolve_identity(spirit_id=spirit.pk).document["relationships"]

    assert relationships == [{"name": "Grace", "kind": "user"}]


def test_a_style_key_set_by_a_curator_after_evolution_is_kept(spirit):
    configure(spirit, revise_after=1)
    lesson(spirit, "Always be brief.")
    evolve_identity(spirit_id=spirit.pk)
    identity_services.identity_revise(
        spirit=spirit,
        document={"communication_style": {"verbosity": "balanced"}},
        actor=CURATOR,
        partial=True,
    )
    lesson(spirit, "Never be short with people.", confidence=0.9)  # would say "detailed"

    document = evolve_identity(spirit_id=spirit.pk).document

    assert document["communication_style"] == {"verbosity": "balanced"}


# --- The log, idempotency, limits --------------------------------------------------------------


def test_the_revision_is_logged_with_reason_and_sources(spirit):
    knowledge = [
        fact(spirit, "name", "The user's name is Ada."),
        fact(spirit, "employer", "The user works at Acme."),
        fact(spirit, "location", "The user lives in Paris."),
    ]
    lessons = [lesson(spirit, "Always be brief."), lesson(spirit, "Never guess.")]

    identity = evolve_identity(spirit_id=spirit.pk)

    entry = revisions(spirit).get()
    assert entry.object_id == identity.pk
    assert (entry.actor_type, entry.actor_id) == (ACTOR.type, ACTOR.id) == ("system", "evolution")
    assert entry.reason == "evolved from 3 knowledge items and 2 lessons"
    assert entry.related_ids == [str(item.pk) for item in [*knowledge, *lessons]]
    assert entry.after["document"] == identity.document
    assert identity.version == 2


def test_the_sources_are_only_the_new_items(spirit):
    configure(spirit, revise_after=2)
    user_facts(spirit)
    evolve_identity(spirit_id=spirit.pk)
    first = lesson(spirit, "Always be brief.")
    second = lesson(spirit, "Never guess.")

    evolve_identity(spirit_id=spirit.pk)

    entry = revisions(spirit).last()
    assert entry.reason == "evolved from 0 knowledge items and 2 lessons"
    assert entry.related_ids == [str(first.pk), str(second.pk)]


def test_evolving_again_without_new_items_changes_nothing(spirit):
    user_facts(spirit)
    first = evolve_identity(spirit_id=spirit.pk)

    assert evolve_identity(spirit_id=spirit.pk) is None
    again = evolve_identity(spirit_id=spirit.pk, force=True)

    assert again.version == first.version == 2
    assert revisions(spirit).count() == 1


def test_new_items_that_change_nothing_make_no_revision(spirit):
    configure(spirit, revise_after=1)
    user_facts(spirit)
    evolve_identity(spirit_id=spirit.pk)
    fact(spirit, "capital", "Paris is the capital of France.")  # no rule uses it

    identity = evolve_identity(spirit_id=spirit.pk)

    assert identity.version == 2 and revisions(spirit).count() == 1


def test_the_document_stays_within_the_schema_limits(spirit):
    identity_services.identity_revise(
        spirit=spirit,
        document={
            "principles": [f"Curated principle {i}." for i in range(45)],
            "values": [{"name": f"Value {i}"} for i in range(50)],
        },
        actor=CURATOR,
    )
    for i in range(10):
        lesson(spirit, f"Always check thing {i}.", confidence=0.9 - i / 100)
    KnowledgeFactory(
        spirit=spirit, knowledge_type=KnowledgeType.PRINCIPLE, topic="x" * 255, content="y" * 5000
    )
    fact(spirit, "name", "The user's name is " + "Z" * 300 + ".")
    for i in range(3):
        fact(spirit, f"hobby {i}", f"The user's hobby {i} is " + "h" * 1500 + ".")

    document = evolve_identity(spirit_id=spirit.pk).document

    validate_identity(document)
    assert document["principles"][:45] == [f"Curated principle {i}." for i in range(45)]
    assert document["principles"][45:] == [f"Always check thing {i}." for i in range(5)]
    assert document["values"] == [{"name": f"Value {i}"} for i in range(50)]
    user = document["relationships"][0]
    assert user["name"] == "Z" * 255
    assert user["notes"].count("The user's hobby") == 2  # a third would pass 4000 characters


def test_a_long_lesson_is_cut_to_the_schema_length(spirit):
    lesson(spirit, "Always " + "a" * 5000)

    document = evolve_identity(spirit_id=spirit.pk, force=True).document

    assert document["principles"] == ["Always " + "a" * 3993]
    validate_identity(document)
