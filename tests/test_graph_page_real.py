"""The /graph page's first view on the REAL bundled data, in headless Chromium on laptop screens.

What a visitor sees first must be readable: mechanism labels at least 10 px at the initial zoom,
every node on screen, no node or label drawn over another, the regions' panels apart, nothing
logged. Screenshots go to test-artifacts/graph-real-<width>.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser import chromium, threaded_server
from tests.test_graph_page import ARTIFACTS, REPO, wait_for, wait_ready
from tipgraph.web.app import create_app

SCREENS = [(1366, 768), (1920, 1080)]

FIRST_VIEW = """() => {
  const cy = window.tipgraphGraph.cy;
  const zoom = cy.zoom(), width = cy.width(), height = cy.height();
  const shown = cy.nodes(':visible');
  const drawn = shown.filter((n) => !n.isParent() || n.hasClass('closed'));
  const mechanisms = shown.filter('.mechanisms');
  const fonts = mechanisms.map((n) => parseFloat(n.style('font-size')) * zoom);
  const offScreen = shown.filter((n) => {
    const b = n.renderedBoundingBox({ includeLabels: true, includeOverlays: false });
    return b.x1 < 0 || b.y1 < 0 || b.x2 > width || b.y2 > height;
  }).map((n) => n.id());
  const boxes = drawn.map((n) => [n.id(),
    n.renderedBoundingBox({ includeLabels: true, includeOverlays: false })]);
  const overlapping = [];
  for (let i = 0; i < boxes.length; i += 1) {
    for (let j = i + 1; j < boxes.length; j += 1) {
      const a = boxes[i][1], b = boxes[j][1];
      if (Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1) > 2
          && Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1) > 2) {
        overlapping.push(`${boxes[i][0]} / ${boxes[j][0]}`);
      }
    }
  }
  const panels = [...document.querySelectorAll('.gx-region')].map((p) => p.getBoundingClientRect());
  let panelOverlaps = 0;
  for (let i = 0; i < panels.length; i += 1) {
    for (let j = i + 1; j < panels.length; j += 1) {
      const a = panels[i], b = panels[j];
      if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1
          && b.top < a.bottom - 1) panelOverlaps += 1;
    }
  }
  return {
    nodes: cy.nodes().length, shown: shown.length, mechanisms: mechanisms.length,
    smallestMechanismFont: Math.min(...fonts), offScreen, overlapping,
    panels: panels.length, panelOverlaps,
    regions: [...document.querySelectorAll('.gx-region-head strong')].map((h) => h.textContent),
    heads: [...document.querySelectorAll('.gx-region-head')].map((h) => h.textContent),
    legend: document.getElementById('gx-legend').innerText,
  };
}"""


@pytest.fixture(scope="module")
def server(kg) -> Iterator[str]:
    app = create_app({"root": REPO, "TESTING": True}, kg=kg)
    with threaded_server(app) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.mark.parametrize("width, height", SCREENS)
def test_first_view_is_readable_on_a_laptop(browser, server, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    tab = context.new_page()
    logged: list[str] = []
    tab.on("console", lambda m: logged.append(f"{m.type}: {m.text}")
           if m.type in {"error", "warning"} else None)
    tab.on("pageerror", lambda e: logged.append(f"pageerror: {e}"))
    try:
        tab.goto(f"{server}/graph")
        wait_ready(tab)
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"graph-real-{width}.png"))
        view = tab.evaluate(FIRST_VIEW)
        url = tab.get_attribute("#cy", "data-url")
        served = tab.evaluate("url => fetch(url).then(r => r.json())", url)
    finally:
        context.close()
    assert logged == []
    assert view["nodes"] == len(served["nodes"]) > 50      # the whole default view is loaded
    assert view["mechanisms"] >= 15
    assert view["smallestMechanismFont"] >= 10, view
    assert view["offScreen"] == []
    assert view["overlapping"] == []
    # grouped by region: one panel per region of the view, none over another
    assert view["panels"] == len({n["data"]["cluster"] for n in served["nodes"]}) >= 5
    assert view["panelOverlaps"] == 0
    assert {"African Region", "European Region"} <= set(view["regions"])
    # a region's heading counts its mechanisms as the document's table of contents does (the
    # African Region's six sections; the GMS, a process, is not one of the Asian four)
    assert {"African Region · 6 mechanisms", "Asian Region · 4 mechanisms"} <= set(view["heads"])
    assert "mechanism" in view["legend"] and "structure" in view["legend"]


def test_a_closed_mechanism_opens_and_its_bodies_are_laid_out(browser, server):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    tab = context.new_page()
    try:
        tab.goto(f"{server}/graph")
        wait_ready(tab)
        cy = "window.tipgraphGraph.cy"
        assert tab.evaluate(f"{cy}.getElementById('ecowas').hasClass('closed')")
        inside = tab.evaluate(f"{cy}.getElementById('ecowas').descendants().length")
        assert inside > 3
        assert tab.evaluate(f"{cy}.getElementById('ecowas').descendants(':visible').length") == 0
        tab.fill("#gx-search", "ECOWAS Commission")
        tab.keyboard.press("Enter")
        tab.wait_for_selector("#gx-panel:not([hidden])")
        wait_for(tab, f"!{cy}.getElementById('ecowas').hasClass('closed')")
        wait_ready(tab)
        assert tab.evaluate(f"{cy}.getElementById('ecowas-commission').visible()")
        assert tab.evaluate(f"{cy}.getElementById('ecowas').descendants()"
                            ".filter(n => n.hasClass('inside-closed')).length") == 0
        # its bodies are laid out, none over another
        overlapping = tab.evaluate("""() => {
          const inside = window.tipgraphGraph.cy.getElementById('ecowas').descendants()
            .filter((n) => !n.isParent()).map((n) => [n.id(), n.boundingBox()]);
          const found = [];
          for (let i = 0; i < inside.length; i += 1) {
            for (let j = i + 1; j < inside.length; j += 1) {
              const a = inside[i][1], b = inside[j][1];
              if (Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1) > 2
                  && Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1) > 2) {
                found.push(`${inside[i][0]} / ${inside[j][0]}`);
              }
            }
          }
          return found;
        }""")
        assert overlapping == []
        tab.screenshot(path=str(ARTIFACTS / "graph-real-ecowas-open.png"))
    finally:
        context.close()
