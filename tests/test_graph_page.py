"""The /graph page in headless Chromium (Playwright): it draws, filters, searches and explains.

A real server on port 0 serves the fixture graph; every request the page makes is recorded.
The screenshot goes to test-artifacts/graph.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

from tests.browser import chromium, threaded_server
from tests.graph_support import REPO, fixture_kg
from tipgraph.web.app import create_app

ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    app = create_app({"root": REPO, "use_cache": False, "TESTING": True}, kg=fixture_kg())
    with threaded_server(app) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


class Recorded:
    def __init__(self) -> None:
        self.console: list[str] = []
        self.requests: list[str] = []


@pytest.fixture
def page(browser, server) -> Iterator[tuple[Page, Recorded]]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    tab = context.new_page()
    seen = Recorded()
    tab.on("console", lambda m: seen.console.append(f"{m.type}: {m.text}")
           if m.type in {"error", "warning"} else None)
    tab.on("pageerror", lambda e: seen.console.append(f"pageerror: {e}"))
    tab.on("request", lambda r: seen.requests.append(r.url))
    yield tab, seen
    context.close()


def wait_ready(tab: Page) -> None:
    tab.wait_for_selector("#cy[data-status=ready]", timeout=30_000)


def wait_for(tab: Page, expression: str, timeout: float = 20_000) -> None:
    """Poll a JavaScript expression until it is true (wait_for_function would need eval, which
    the page's Content-Security-Policy forbids)."""
    waited = 0.0
    while not tab.evaluate(f"() => Boolean({expression})"):
        if waited > timeout:
            raise AssertionError(f"timed out waiting for {expression}")
        tab.wait_for_timeout(50)
        waited += 50


def drawn_nodes(tab: Page) -> int:
    return tab.evaluate("window.tipgraphGraph.cy.nodes().length")


def open_graph(tab: Page, server: str, query: str = "") -> None:
    tab.goto(f"{server}/graph{query}")
    wait_ready(tab)


def json_nodes(tab: Page, url: str) -> int:
    return tab.evaluate("url => fetch(url).then(r => r.json()).then(b => b.nodes.length)", url)


def test_page_loads_clean_and_stays_on_its_host(page, server):
    tab, seen = page
    open_graph(tab, server)
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / "graph.png"))
    assert seen.console == []
    host = urlsplit(server).netloc
    assert seen.requests, "the page made no requests"
    assert {urlsplit(url).netloc for url in seen.requests} == {host}
    assert any("/static/vendor/cytoscape-fcose-2.2.0.min.js" in url for url in seen.requests)


def test_drawn_node_count_matches_graph_json(page, server):
    tab, _ = page
    open_graph(tab, server)
    url = tab.get_attribute("#cy", "data-url")
    assert "/graph.json?" in url
    count = drawn_nodes(tab)
    assert count == json_nodes(tab, url) > 0
    assert tab.get_attribute("#cy", "data-node-count") == str(count)


def test_a_filter_reduces_the_graph(page, server):
    tab, _ = page
    open_graph(tab, server)
    before = drawn_nodes(tab)
    tab.check("input[data-facet=region][value=european-region]")
    wait_for(tab, f"window.tipgraphGraph.cy.nodes().length < {before}")
    wait_ready(tab)
    after = drawn_nodes(tab)
    assert 0 < after < before
    assert "region=european-region" in tab.url
    assert after == json_nodes(tab, tab.get_attribute("#cy", "data-url"))
    labels = tab.evaluate("window.tipgraphGraph.cy.nodes().map(n => n.id())")
    assert "greta" in labels and "ecowas" not in labels


def test_instruments_can_be_shown(page, server):
    tab, _ = page
    open_graph(tab, server)
    assert tab.evaluate("window.tipgraphGraph.cy.getElementById('coe-convention').length") == 0
    tab.check("#gx-instruments")
    wait_for(tab, "window.tipgraphGraph.cy.getElementById('coe-convention').length == 1")


def test_search_finds_greta_and_clicking_opens_its_panel(page, server):
    tab, seen = page
    open_graph(tab, server)
    tab.fill("#gx-search", "GRETA")
    first = tab.locator("#gx-results li[data-id]").first
    assert first.get_attribute("data-id") == "greta"
    tab.keyboard.press("Enter")
    tab.wait_for_selector("#gx-panel:not([hidden])")
    assert tab.inner_text("#gx-panel-title").startswith("Group of Experts on Action")
    assert tab.get_attribute("#gx-entity-link", "href") == "/id/greta"
    assert tab.evaluate("window.tipgraphGraph.cy.getElementById('greta').selected()")
    assert seen.console == []


def test_clicking_a_node_opens_its_panel(page, server):
    tab, _ = page
    open_graph(tab, server)
    tab.wait_for_timeout(500)  # let the layout animation settle before aiming at the node
    box = tab.locator("#cy").bounding_box()
    position = tab.evaluate("window.tipgraphGraph.cy.getElementById('iom').renderedPosition()")
    tab.mouse.click(box["x"] + position["x"], box["y"] + position["y"])
    tab.wait_for_selector("#gx-panel:not([hidden])")
    assert tab.inner_text("#gx-panel-title") == "International Organization for Migration"
    assert "supports" in tab.inner_text("#gx-panel")


def test_expand_adds_the_neighbours(page, server):
    tab, _ = page
    open_graph(tab, server)
    tab.fill("#gx-search", "GRETA")
    tab.keyboard.press("Enter")
    tab.wait_for_selector("#gx-panel:not([hidden])")
    tab.click("#gx-expand")
    wait_for(tab, "window.tipgraphGraph.cy.getElementById('coe-convention').length == 1")
    wait_ready(tab)
    tab.click("#gx-hide-rest")
    wait_for(tab, "window.tipgraphGraph.cy.getElementById('ecowas').length == 0")
    assert tab.evaluate("window.tipgraphGraph.cy.getElementById('greta').length") == 1


def test_year_slider_changes_what_is_shown(page, server):
    tab, _ = page
    open_graph(tab, server, "?kind=mechanisms,bodies,instruments")
    assert tab.evaluate("window.tipgraphGraph.cy.getElementById('greta').length") == 1
    tab.check("#gx-year-on")
    slider = tab.locator("#gx-year")
    slider.fill("2004")
    wait_for(tab, "window.tipgraphGraph.cy.getElementById('greta').length == 0")
    wait_ready(tab)
    assert "year=2004" in tab.url
    assert tab.inner_text("#gx-year-label") == "2004"
    in_2004 = drawn_nodes(tab)
    assert tab.evaluate("window.tipgraphGraph.cy.getElementById('ecowas-initial-plan')"
                        ".hasClass('past')")
    slider.fill("2010")
    wait_for(tab, f"window.tipgraphGraph.cy.nodes().length > {in_2004}")
    assert tab.evaluate("window.tipgraphGraph.cy.getElementById('greta').length") == 1


def test_reset_returns_to_the_default_view(page, server):
    tab, _ = page
    open_graph(tab, server, "?kind=mechanisms")
    assert drawn_nodes(tab) == 3
    tab.click("#gx-reset")
    wait_for(tab, "window.tipgraphGraph.cy.nodes().length > 3")
    wait_ready(tab)
    assert drawn_nodes(tab) == json_nodes(tab, tab.get_attribute("#cy", "data-url"))
