"""The memory map page in the admin (memories.admin.console.memory_map)."""

from __future__ import annotations

import json

from django.urls import reverse

from memories.models import KnowledgeType
from memories.services import memories as svc
from memories.services.knowledge import knowledge_create
from memories.tests.map_fixtures import embed, topic_vector
from spirits.tests.factories import SpiritFactory
from teams.actors import Actor
from teams.models import Role
from teams.tests.admin_utils import staff_client

SYSTEM = Actor.system("test")
CURATOR_MODELS = ["spirits.spirit", "memories.memory", "memories.knowledge"]


def map_url(spirit, **query) -> str:
    url = reverse("admin:spirits_spirit_memory_map", args=[spirit.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def memory(spirit, text="Ada drinks green tea.", member=0, embedded=True, **fields):
    made = svc.memory_create(spirit=spirit, data={"content": text, **fields}, actor=SYSTEM)
    if embedded:
        embed(made, topic_vector("tea", member))
    return made


def fact(spirit, text="The user lives in Lisbon.", member=0):
    data = {"knowledge_type": KnowledgeType.FACT, "content": text}
    made = knowledge_create(spirit=spirit, data=data, actor=SYSTEM)
    embed(made, topic_vector("place", member))
    return made


def page_data(response) -> dict:
    return response.context["data"]


def test_the_page_draws_memories_and_knowledge_from_embedded_json(admin_client, spirit):
    m, k = memory(spirit), fact(spirit)
    response = admin_client.get(map_url(spirit))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<script id="memory-map-data" type="application/json">' in html
    assert "memories/memory_map.js" in html and "<canvas" in html
    data = page_data(response)
    assert {p[0] for p in data["points"]} == {str(m.pk), str(k.pk)}
    change = data["changeUrls"]["memory"].replace(data["placeholder"], str(m.pk))
    assert change == reverse("admin:memories_memory_change", args=[m.pk])


def test_the_legend_counts_points_per_colour_without_script(admin_client, spirit):
    for i in range(3):
        memory(spirit, member=i, tier="cold" if i else "hot")
    response = admin_client.get(map_url(spirit, color="tier"))
    html = response.content.decode()
    assert response.context["coloring"] == "tier"
    tier = next(legend for legend in response.context["legends"] if legend["coloring"] == "tier")
    assert [(row["label"], row["count"]) for row in tier["rows"]] == [("Hot", 1), ("Cold", 2)]
    assert '<table class="memory-map-legend" data-legend="tier">' in html  # shown
    assert '<table class="memory-map-legend" data-legend="type" hidden>' in html


def test_an_unknown_colouring_falls_back_to_type(admin_client, spirit):
    response = admin_client.get(map_url(spirit, color="<nope>"))
    assert response.status_code == 200 and response.context["coloring"] == "type"


def test_the_page_says_what_was_left_out(admin_client, spirit):
    memory(spirit)
    memory(spirit, text="still being embedded", embedded=False)
    html = admin_client.get(map_url(spirit)).content.decode()
    assert "1 memory has no embedding yet and is not shown." in html


def test_an_empty_spirit_gets_a_page_that_says_so(admin_client, spirit):
    response = admin_client.get(map_url(spirit))
    assert response.status_code == 200
    assert "Nothing to draw yet" in response.content.decode()
    assert page_data(response)["points"] == []


def test_text_is_escaped_in_the_embedded_json(admin_client, spirit):
    memory(spirit, text="</script><script>alert(1)</script>")
    html = admin_client.get(map_url(spirit)).content.decode()
    assert "<script>alert(1)" not in html
    assert "\\u003C/script\\u003E\\u003Cscript\\u003Ealert(1)" in html


def test_lines_are_listed_in_the_legend(admin_client, spirit):
    a, b = memory(spirit, member=0), memory(spirit, member=1)
    svc.memory_mark_disputed(memory=a, conflicting=b, actor=SYSTEM)
    response = admin_client.get(map_url(spirit))
    assert [(row["key"], row["count"]) for row in response.context["edge_rows"]] == [
        ("contradiction", 1)
    ]
    assert len(page_data(response)["edges"]) == 1


# --- who may see it ------------------------------------------------------------------------------


def test_a_curator_sees_the_map_of_their_teams_spirit(team, spirit):
    memory(spirit)
    client = staff_client(team=team, models=CURATOR_MODELS, role=Role.VIEWER)
    response = client.get(map_url(spirit))
    assert response.status_code == 200
    assert len(page_data(response)["points"]) == 1


def test_another_teams_spirit_is_not_found(team, other_team):
    theirs = SpiritFactory(team=other_team)
    memory(theirs, text="their secret")
    client = staff_client(team=team, models=CURATOR_MODELS)
    response = client.get(map_url(theirs))
    assert response.status_code == 404
    assert "their secret" not in response.content.decode()


def test_an_unknown_spirit_is_not_found(admin_client):
    assert admin_client.get("/admin/spirits/spirit/not-a-uuid/memory-map/").status_code == 404


def test_anonymous_visitors_are_sent_to_the_login_page(client, spirit):
    response = client.get(map_url(spirit))
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))


def test_a_curator_who_may_view_only_memories_sees_no_knowledge(team, spirit):
    memory(spirit)
    fact(spirit, text="a fact they may not read")
    client = staff_client(team=team, models=["spirits.spirit", "memories.memory"])
    response = client.get(map_url(spirit))
    assert response.status_code == 200
    assert [p[1] for p in page_data(response)["points"]] == [0]
    html = response.content.decode()
    assert "a fact they may not read" not in html
    assert "Knowledge is not shown: you may not view it." in html


def test_a_curator_who_may_view_neither_memories_nor_knowledge_is_refused(team, spirit):
    client = staff_client(team=team, models=["spirits.spirit"])
    assert client.get(map_url(spirit)).status_code == 403


def test_the_embedded_json_parses_to_what_the_context_holds(admin_client, spirit):
    memory(spirit)
    response = admin_client.get(map_url(spirit))
    html = response.content.decode()
    start = html.index('<script id="memory-map-data" type="application/json">')
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    assert json.loads(body) == json.loads(json.dumps(page_data(response)))
