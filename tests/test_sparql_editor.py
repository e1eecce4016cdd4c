"""The query editor at /sparql in headless Chromium: type a query, run it, see rows whose IRIs
link to this site's pages; examples load; nothing is fetched from another origin; no CSP error."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import app_settings, running_server
from tipgraph.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
QUERY = "SELECT ?concept WHERE { ?concept a skos:Concept } ORDER BY ?concept LIMIT 7"
EXAMPLE = """# title: Classes of the ontology
# description: Every OWL class, to test the editor's examples.
# category: Ontology
SELECT ?class WHERE { ?class a owl:Class } ORDER BY ?class
"""


@pytest.fixture(scope="module")
def editor_server(kg, config, tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    (root / "queries").mkdir()
    (root / "queries" / "classes.rq").write_text(EXAMPLE, encoding="utf-8")
    app = create_app(app_settings(config, root=root, query_workers=1), kg=kg)
    with running_server(app) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is needed for the editor test (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def test_type_a_query_run_it_and_see_rows(editor_server, browser):
    page = browser.new_page()
    foreign, problems = [], []
    page.on("request", lambda r: urlsplit(r.url).netloc != urlsplit(editor_server).netloc
            and urlsplit(r.url).scheme in {"http", "https"} and foreign.append(r.url))
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(f"{editor_server}/sparql")
    editor = page.locator(".yasqe .CodeMirror")
    editor.wait_for()
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(QUERY)  # typed as text input, as a paste would be
    assert page.evaluate("window.tipgraphYasgui.getTab().getYasqe().getValue()") == QUERY
    page.locator(".yasqe_queryButton").click()

    rows = page.locator(".yasr table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 7
    links = page.locator(".yasr table tbody a[href]")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs and all(h.startswith("/id/") for h in hrefs), hrefs

    with page.expect_navigation():
        links.first.click()
    assert urlsplit(page.url).netloc == urlsplit(editor_server).netloc  # a page of this site

    assert not foreign, f"requests to other origins: {foreign}"
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    page.close()


def test_examples_are_offered(editor_server, browser):
    page = browser.new_page()
    page.goto(f"{editor_server}/sparql")
    page.locator(".yasqe .CodeMirror").wait_for()
    page.select_option("#examples", label="Classes of the ontology")
    value = page.evaluate("window.tipgraphYasgui.getTab().getYasqe().getValue()")
    assert "SELECT ?class WHERE { ?class a owl:Class }" in value
    assert "PREFIX owl: <http://www.w3.org/2002/07/owl#>" in value  # prefixes shown declared
    assert "Every OWL class" in page.locator("#example-description").inner_text()
    page.close()
