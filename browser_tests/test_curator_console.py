"""The curator's console in a real browser: log in, the index, a dashboard, the memory map, a
memory and a dream; the pictures have their marks, a point opens its memory, the console stays
free of errors, and another team's spirit is not there."""

from __future__ import annotations

import pytest
from django.urls import reverse
from selenium.webdriver.common.actions.action_builder import ActionBuilder

from memories.map.points import EDGE_KINDS

from .world import PASSWORD, World, build

pytestmark = pytest.mark.django_db(transaction=True)


def map_url(spirit) -> str:
    return reverse("admin:spirits_spirit_memory_map", args=[spirit.pk])


def dashboard_url(spirit) -> str:
    return reverse("admin:spirits_spirit_dashboard", args=[spirit.pk])


def point_on_canvas(page, memory_id: str) -> tuple[float, float]:
    """Where the map drew a point (CSS pixels from the canvas' top-left corner)."""
    at = page.script("return window.elephantasmMemoryMap.positionOf(arguments[0])", memory_id)
    assert at is not None, f"{memory_id} is not on the map"
    return at["x"], at["y"]


def pointer(page, x: float, y: float, *, click: bool = False) -> None:
    """Move the mouse (and click) at (x, y) of the canvas: the canvas is scrolled into view,
    and the point's place in the viewport is where the real mouse goes."""
    box = page.script(
        "const c = document.querySelector('.memory-map-canvas');"
        "c.scrollIntoView({block: 'center'});"
        "const r = c.getBoundingClientRect(); return {left: r.left, top: r.top};"
    )
    actions = ActionBuilder(page.driver)
    actions.pointer_action.move_to_location(round(box["left"] + x), round(box["top"] + y))
    if click:
        actions.pointer_action.click()
    actions.perform()


def lonely(page, world: World):
    """A memory whose point has no other point within 12 px: hovering it is unambiguous."""
    ids = [str(m.pk) for m in world.memories]
    places = page.script(
        "return arguments[0].map(id => window.elephantasmMemoryMap.positionOf(id));", ids
    )
    drawn = [(memory, p) for memory, p in zip(world.memories, places, strict=True) if p]
    for memory, p in drawn:
        if all(
            other is memory or (p["x"] - q["x"]) ** 2 + (p["y"] - q["y"]) ** 2 > 144
            for other, q in drawn
        ):
            return memory, p
    pytest.fail("every point has a neighbour within 12 px")


@pytest.fixture
def world(transactional_db) -> World:
    return build()


@pytest.fixture
def curator(page, world):
    """The page, logged in as the curator through the login form."""
    page.log_in(world.curator.email, PASSWORD)
    return page


def test_the_index_starts_with_the_curators_team_and_spirit(curator, world):
    assert curator.path == "/admin/"
    content = curator.find("#content").text.lower()  # headings are shown in capitals
    assert world.spirit.team.name.lower() in content and world.spirit.name in content
    assert world.other_spirit.name not in content
    curator.check("index")


def test_the_dashboard_draws_its_charts(curator, world):
    curator.open(dashboard_url(world.spirit))
    charts = curator.find_all("figure.console-chart svg")
    assert len(charts) >= 4
    events_chart = charts[0]
    marks = events_chart.find_elements("css selector", "rect.mark")
    assert len(marks) == 6  # the six days with events
    assert all(float(mark.get_attribute("height")) > 0 for mark in marks)
    assert "merge" in curator.find("#dreams").text.lower()
    curator.check("dashboard")


def test_the_memory_map_draws_every_point_and_line(curator, world):
    curator.open(map_url(world.spirit))
    curator.wait_for('.memory-map-stage[data-ready="true"]')
    stage = curator.find(".memory-map-stage")
    assert int(stage.get_attribute("data-drawn-points")) == world.point_count
    merges = 2 * len(world.merged)
    assert len(world.merged) == 2
    assert int(stage.get_attribute("data-drawn-lines")) == merges + 3  # and 3 contradictions
    lines = curator.find(".memory-map-edges").text
    assert f"{EDGE_KINDS[0][1]} {merges}" in lines and "contradicts 3" in lines
    x, y = point_on_canvas(curator, str(world.memories[0].pk))
    alpha = curator.script(
        "const c = document.querySelector('.memory-map-canvas');"
        "const r = window.devicePixelRatio || 1;"
        "return c.getContext('2d').getImageData(arguments[0] * r, arguments[1] * r, 1, 1).data[3];",
        x,
        y,
    )
    assert alpha > 0  # painted where the point is
    left_out = f"{world.unembedded_count} memories have no embedding yet"
    assert left_out in curator.find("#content").text
    curator.check("memory-map")


def test_hovering_a_point_shows_its_text_and_clicking_opens_its_memory(curator, world):
    curator.open(map_url(world.spirit))
    curator.wait_for('.memory-map-stage[data-ready="true"]')
    memory, at = lonely(curator, world)
    pointer(curator, at["x"], at["y"])
    tooltip = curator.find(".memory-map-tooltip")
    curator.wait_until(tooltip.is_displayed)
    assert memory.content in tooltip.text
    curator.screenshot("memory-map-hover")
    pointer(curator, at["x"], at["y"], click=True)
    change = reverse("admin:memories_memory_change", args=[memory.pk])
    curator.wait_until(lambda: curator.path == change)
    assert memory.content in curator.find("#content").text
    curator.check("memory-change")


def test_switching_the_colouring_redraws_with_its_legend(curator, world):
    curator.open(map_url(world.spirit))
    curator.wait_for('.memory-map-stage[data-ready="true"]')
    memory, at = lonely(curator, world)

    def colour_at() -> list[int]:
        curator.script("window.elephantasmMemoryMap.drawNow()")
        return curator.script(
            "const c = document.querySelector('.memory-map-canvas');"
            "const r = window.devicePixelRatio || 1;"
            "return Array.from(c.getContext('2d')"
            ".getImageData(arguments[0] * r, arguments[1] * r, 1, 1).data).slice(0, 3);",
            at["x"],
            at["y"],
        )

    def legend_colour(coloring: str, label: str) -> list[int]:
        legend = curator.find(f'[data-legend="{coloring}"]')
        assert legend.is_displayed()
        for row in legend.find_elements("css selector", "tbody tr"):
            if row.text.split("\n")[0].startswith(label):
                swatch = row.find_element("css selector", ".memory-map-swatch")
                rgb = swatch.value_of_css_property("background-color")
                return [int(v) for v in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
        pytest.fail(f"no {label} in the {coloring} legend")

    def close(a: list[int], b: list[int]) -> bool:
        return all(abs(p - q) <= 3 for p, q in zip(a, b, strict=True))

    assert close(colour_at(), legend_colour("type", memory.get_memory_type_display()))
    curator.find('input[name="color"][value="tier"]').click()
    assert not curator.find('[data-legend="type"]').is_displayed()
    assert close(colour_at(), legend_colour("tier", memory.get_tier_display()))
    assert "color=tier" in curator.driver.current_url
    curator.check("memory-map-by-tier")


def test_a_dream_shows_what_it_merged(curator, world):
    curator.open(reverse("admin:memories_dreamsession_change", args=[world.dream.pk]))
    text = curator.find("#content").text.lower()
    assert "merge" in text
    curator.check("dream")


def test_another_teams_spirit_has_no_map_and_no_dashboard(curator, world):
    for url in (map_url(world.other_spirit), dashboard_url(world.other_spirit)):
        status = curator.script(
            "return fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.status);", url
        )
        assert status == 404
        curator.open(url)
        assert "stranger" not in curator.find("body").text
        assert all("404" in error for error in curator.console_errors())
    curator.screenshot("other-team-not-found")
