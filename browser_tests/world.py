"""What the browser tests look at: a curator, their team's spirit with a few hundred memories,
knowledge, events over several days and a dream, and another team's spirit they must not see.

Memories and knowledge are rows made by the factories (a few hundred in one INSERT each), with
deterministic embeddings of topics on a ring (memories.tests.map_fixtures.ring_vector) as the
pipeline would have embedded them; a few are left without one. Contradictions go through the
service; two pairs of near-duplicates, made through the service, are merged by a real dream
(pipeline.dreamer), and the merged memories embedded in turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from django.contrib.auth.models import Permission
from django.utils import timezone

from events.tests.factories import EventFactory
from memories.models import (
    DreamSession,
    DreamTrigger,
    Knowledge,
    Memory,
    MemoryStatus,
    MemoryTier,
    MemoryType,
)
from memories.services import memories as memory_services
from memories.tests.factories import KnowledgeFactory, MemoryFactory
from memories.tests.map_fixtures import embed, ring_plane, ring_vector
from pipeline.dreamer.run import dream_request, dream_run
from spirits.models import Spirit
from spirits.tests.factories import SpiritFactory
from teams.actors import Actor
from teams.models import Role, User
from teams.tests.factories import TeamFactory, TeamMembershipFactory, UserFactory

PASSWORD = "correct-horse-battery"  # noqa: S105 (the test users' password, UserFactory's)
SYSTEM = Actor.system("browser-tests")
TOPICS = {
    "tea": "Ada drinks green tea every morning, sencha batch {n}.",
    "chess": "Ada plays the Sicilian defence in online chess, game {n}.",
    "lisbon": "Ada walked through Alfama in Lisbon on trip {n}.",
    "neovim": "Ada configured Neovim with plugin number {n}.",
    "running": "Ada ran {n} kilometres along the river.",
    "music": "Ada listened to fado record {n}.",
}
TYPES = [MemoryType.EPISODIC, MemoryType.SEMANTIC, MemoryType.PROCEDURAL, MemoryType.USER_PROFILE]
TIERS = [MemoryTier.HOT, MemoryTier.HOT, MemoryTier.WARM, MemoryTier.COLD]
STATUSES = [MemoryStatus.ACTIVE] * 5 + [MemoryStatus.DECAYING, MemoryStatus.ARCHIVED]
CURATOR_APPS = ("spirits", "memories", "events")


@dataclass
class World:
    curator: User
    spirit: Spirit
    other_spirit: Spirit
    memories: list[Memory] = field(default_factory=list)
    knowledge_count: int = 0
    unembedded_count: int = 0
    dream: DreamSession | None = None
    merged: list[Memory] = field(default_factory=list)

    @property
    def point_count(self) -> int:
        """Live embedded memories and knowledge: what the map draws."""
        embedded = Memory.objects.filter(spirit=self.spirit, embedding__isnull=False).count()
        return embedded + self.knowledge_count


def curator_of(team) -> User:
    """A staff member (not a superuser), member of `team`, with the curation permissions."""
    user = UserFactory(is_staff=True)
    TeamMembershipFactory(user=user, team=team, role=Role.MEMBER)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=CURATOR_APPS))
    return user


def _events(spirit, days: int = 6) -> None:
    now = timezone.now()
    for day in range(days):
        for turn in range(3 + day):
            at = now - timedelta(days=day, minutes=turn)
            EventFactory(spirit=spirit, occurred_at=at, created_at=at, session_id=f"s-{day}")


def _fields(topic: str, n: int) -> dict:
    return {
        "content": TOPICS[topic].format(n=n),
        "summary": TOPICS[topic].format(n=n),
        "memory_type": TYPES[n % len(TYPES)],
        "importance": round(0.1 + 0.85 * ((n * 37) % 100) / 100, 2),
    }


def build(*, memories: int = 240, knowledge: int = 40, unembedded: int = 5) -> World:
    team = TeamFactory(name="Lisbon Lab", slug="lisbon-lab")
    spirit = SpiritFactory(team=team, name="helper")
    other_spirit = SpiritFactory(team=TeamFactory(name="Elsewhere"), name="stranger")
    world = World(curator=curator_of(team), spirit=spirit, other_spirit=other_spirit)
    _events(spirit)
    _dream(world)
    topics = list(TOPICS)
    rows = []
    for n in range(memories):
        topic = topics[n % len(topics)]
        vector = ring_vector(topics.index(topic), len(topics), n)
        rows.append(
            MemoryFactory.build(
                spirit=spirit,
                tier=TIERS[n % len(TIERS)],
                status=STATUSES[n % len(STATUSES)],
                embedding=vector,
                embedding_stale=False,
                **_fields(topic, n),
            )
        )
    for n in range(unembedded):
        rows.append(MemoryFactory.build(spirit=spirit, **_fields("tea", 10_000 + n)))
    world.memories += Memory.objects.bulk_create(rows)[:memories]
    world.unembedded_count = unembedded
    facts = [
        KnowledgeFactory.build(
            spirit=spirit,
            topic=topic,
            content=f"The user likes {topic} (fact {n}).",
            confidence=0.4 + 0.5 * (n % 7) / 6,
            embedding=ring_vector(topics.index(topic), len(topics), 1000 + n),
            embedding_stale=False,
        )
        for n, topic in ((n, topics[n % len(topics)]) for n in range(knowledge))
    ]
    Knowledge.objects.bulk_create(facts)
    world.knowledge_count = knowledge
    for a, b in [(0, 6), (1, 7), (2, 8)]:  # same topic (six topics), three contradictions
        memory_services.memory_mark_disputed(
            memory=world.memories[-memories + a],
            conflicting=world.memories[-memories + b],
            actor=SYSTEM,
        )
    stranger = MemoryFactory(spirit=other_spirit, content="The stranger's secret.")
    embed(stranger, ring_vector(0, 1, 0))
    return world


def _dream(world: World) -> None:
    """Two pairs of near-duplicates, merged by a real dream (before the other memories exist,
    so that it merges only those); the merged memories embedded as the pipeline would."""
    music = list(TOPICS).index("music")
    for n in range(2):
        vector = ring_vector(music, len(TOPICS), 500 + n)
        for _ in range(2):
            twin = memory_services.memory_create(
                spirit=world.spirit, data=_fields("music", 500 + n), actor=SYSTEM
            )
            embed(twin, vector)
            world.memories.append(twin)
    session = dream_request(spirit=world.spirit, trigger=DreamTrigger.ADMIN, actor=SYSTEM)
    world.dream = dream_run(session_id=session.pk)
    world.merged = list(
        Memory.objects.filter(spirit=world.spirit, supersedes__isnull=False).distinct()
    )
    for n, merged in enumerate(world.merged):
        embed(merged, ring_vector(music, len(TOPICS), 600 + n))


def crowd(spirit, count: int) -> None:
    """`count` memories of six topics on the ring, in one bulk insert (the responsiveness test:
    the map's maximum of points)."""
    rng = np.random.default_rng(count)
    topics = list(TOPICS)
    position = np.arange(count) % len(topics)
    angle = 2 * np.pi * position / len(topics)
    spot = np.stack([np.cos(angle), np.sin(angle)], axis=1) + 0.18 * rng.standard_normal((count, 2))
    u, v = ring_plane()
    noise = rng.standard_normal((count, len(u)))
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    vectors = spot[:, :1] * u + spot[:, 1:] * v + 0.4 * noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = [
        MemoryFactory.build(
            spirit=spirit,
            embedding=vectors[n].astype(np.float32),
            embedding_stale=False,
            **_fields(topics[position[n]], n),
        )
        for n in range(count)
    ]
    Memory.objects.bulk_create(rows, batch_size=2000)
