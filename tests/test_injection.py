"""No markup injection: values from the data and from the request are text on every HTML page
(entity pages, browse, error pages, the graph panel, the query editor's examples), and every
response of every route carries the Content-Security-Policy (no inline script), nosniff and a
referrer policy. The graph panel and the query editor are checked in headless Chromium: no
injected script runs."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import quote

import pytest

from tests.browser import chromium, threaded_server
from tests.conftest import root_with_page
from tipgraph.config import load_config
from tipgraph.model.build import build
from tipgraph.web.app import SECURITY_HEADERS, create_app

XSS_IMG = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = "<script>window.__xss=2</script>"
HOSTILE = f'{XSS_SCRIPT}{XSS_IMG}"\'&'


def turtle_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    """A root whose data and example query carry markup in labels, acronyms and titles."""
    root = root_with_page(tmp_path_factory.mktemp("hostile"), f"""
    :evil a tip:NonGovernmentalOrganisation ;
        skos:prefLabel {turtle_string(HOSTILE)}@en ;
        skos:altLabel {turtle_string(XSS_IMG)}@en ;
        tip:acronym {turtle_string(XSS_SCRIPT)} ;
        tip:partnerOf :friend .
    :friend a tip:NonGovernmentalOrganisation ; skos:prefLabel "Friend"@en .""")
    (root / "queries").mkdir()
    (root / "queries" / "q99-evil.rq").write_text(
        f"# title: {HOSTILE}\n# description: {XSS_IMG}\n# category: {XSS_SCRIPT}\n"
        "SELECT ?s WHERE { ?s a tip:NonGovernmentalOrganisation }\n", encoding="utf-8")
    config = load_config({"root": root, "use_cache": False}, environ={})
    app = create_app({**config, "TESTING": True, "query_workers": 0}, kg=build(config))
    yield app
    app.extensions["tipgraph"].close()


def no_raw_markup(html: str) -> None:
    assert XSS_SCRIPT not in html and XSS_IMG not in html
    assert "onerror=\"window" not in html


@pytest.mark.parametrize("path", [
    "/id/evil.html", "/id/friend.html", "/id/?q=%3Cscript%3E", "/id/?q=evil",
    "/id/?class=tip:NonGovernmentalOrganisation", "/sparql", "/graph", "/ontology", "/dumps/",
    "/.well-known/void",
])
def test_data_values_are_escaped_on_html_pages(hostile_app, path):
    response = hostile_app.test_client().get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    no_raw_markup(response.get_data(as_text=True))


def test_the_hostile_label_is_shown_as_text(hostile_app):
    html = hostile_app.test_client().get("/id/evil.html").get_data(as_text=True)
    assert "&lt;script&gt;window.__xss=2&lt;/script&gt;" in html
    assert re.search(r"<title>[^<]*&lt;script&gt;", html)


@pytest.mark.parametrize("url", [
    "/id/%3Cscript%3Ewindow.__xss=2%3C/script%3E",
    "/ontology.%3Cscript%3E",
    "/.well-known/void.%3Cimg%20src=x%20onerror=alert(1)%3E",
    "/graph.%3Cscript%3E",
    "/dumps/%3Cscript%3Ex",
    "/nowhere/%3Cscript%3Ewindow.__xss=2%3C%2Fscript%3E",
    "/sparql?query=" + quote("SELECT * WHERE { <script>window.__xss=2</script> }"),
    "/sparql?query=ASK%7B%7D&format=" + quote(XSS_SCRIPT),
    "/graph.json?focus=" + quote(XSS_SCRIPT),
    "/id/?class=" + quote(XSS_SCRIPT),
])
def test_request_values_are_escaped_on_error_and_search_pages(hostile_app, url):
    response = hostile_app.test_client().get(url, headers={"Accept": "text/html"})
    assert response.status_code < 500  # 4xx, or 200 for a search that finds nothing
    body = response.get_data(as_text=True)
    if response.mimetype == "text/html":
        no_raw_markup(body)
        assert "<script>" not in body.split("</head>", 1)[1]
    else:  # JSON is never rendered as HTML: nosniff, and the media type says so
        assert response.mimetype == "application/json"


# --- the headers, on every route ---------------------------------------------------------------

EVERY_ROUTE = [
    "/", "/favicon.ico", "/health", "/openapi.json", "/sparql", "/sparql?query=ASK%7B%7D",
    "/sparql?query=bad", "/id/", "/id/evil", "/id/evil.html", "/id/evil.ttl", "/id/nothing",
    "/ontology", "/ontology.ttl", "/ontology.nope", "/dumps/", "/dumps/tipgraph.ttl",
    "/dumps/nope", "/.well-known/void", "/.well-known/void.ttl", "/.well-known/void.nope",
    "/context.jsonld", "/graph", "/graph.json", "/graph.dot", "/graph.nope",
    "/static/favicon.svg", "/static/graph.js", "/static/nope.js", "/nowhere",
]


def test_every_route_of_the_app_is_in_the_list(hostile_app):
    listed = {url.split("?")[0] for url in EVERY_ROUTE}
    for rule in hostile_app.url_map.iter_rules():
        example = re.sub(r"<[^>]+>", "x", rule.rule)
        pattern = re.escape(rule.rule)
        pattern = re.sub(r"<[^>]+>", "[^?]+", rule.rule.replace(".", r"\."))
        assert any(re.fullmatch(pattern, url) for url in listed), f"no URL for {example}"


@pytest.mark.parametrize("accept", ["text/html", "application/json", "*/*"])
@pytest.mark.parametrize("url", EVERY_ROUTE)
def test_security_headers_on_every_route(hostile_app, url, accept):
    response = hostile_app.test_client().get(url, headers={"Accept": accept})
    response.close()  # static files are streamed from an open file
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (url, name)
    policy = response.headers["Content-Security-Policy"]
    script_src = policy.split("script-src", 1)[1].split(";")[0]
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "strict-origin" in response.headers["Referrer-Policy"]


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_no_inline_script_on_any_html_page(hostile_app):
    client = hostile_app.test_client()
    for url in EVERY_ROUTE:
        response = client.get(url, headers={"Accept": "text/html"})
        html = response.get_data(as_text=True)
        response.close()
        if response.mimetype != "text/html":
            continue
        parser = _Tags()
        parser.feed(html)
        for tag, attrs in parser.tags:
            assert not [a for a in attrs if a.startswith("on")], (url, tag, attrs)
            if tag == "script":
                assert attrs.get("src") or attrs.get("type") == "application/json", (url, attrs)
            assert not (attrs.get("src") or "").startswith("x"), (url, tag, attrs)


# --- in a browser: nothing runs ---------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_server(hostile_app):
    with threaded_server(hostile_app) as base:
        yield base


@pytest.fixture(scope="module")
def tab(hostile_server):
    with chromium() as browser:
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.dialogs = dialogs  # type: ignore[attr-defined]
        yield page


def poll(page, expression: str, timeout_ms: float = 30_000) -> None:
    """Poll a JavaScript expression (wait_for_function needs eval, which the CSP forbids)."""
    waited = 0.0
    while not page.evaluate(f"() => Boolean({expression})"):
        assert waited < timeout_ms, f"timed out waiting for {expression}"
        page.wait_for_timeout(50)
        waited += 50


def test_graph_panel_shows_markup_as_text_and_runs_nothing(tab, hostile_server):
    tab.goto(f"{hostile_server}/graph")
    poll(tab, "document.querySelector('#cy[data-status=ready]')")
    ids = tab.evaluate("window.tipgraphGraph.cy.nodes().map(n => n.id())")
    assert "evil" in ids, ids
    tab.fill("#gx-search", "window")  # the search results list the label...
    poll(tab, "document.querySelectorAll('#gx-results li[data-id]').length > 0")
    assert tab.evaluate("document.querySelectorAll('#gx-results img, #gx-results script')"
                        ".length") == 0
    tab.keyboard.press("Enter")  # ...and the panel shows it
    poll(tab, "!document.getElementById('gx-panel').hidden")
    title = tab.evaluate("document.getElementById('gx-panel-title').textContent")
    assert title == HOSTILE
    panel = "document.getElementById('gx-panel-body')"
    assert tab.evaluate(f"{panel}.querySelectorAll('script, img').length") == 0
    assert XSS_IMG in tab.evaluate(f"{panel}.textContent")
    tab.wait_for_timeout(300)  # let any onerror fire if an <img> had been made
    assert tab.evaluate("window.__xss") is None and tab.dialogs == []


def test_entity_page_and_editor_run_nothing(tab, hostile_server):
    tab.goto(f"{hostile_server}/id/evil.html")
    assert XSS_SCRIPT in tab.evaluate("document.querySelector('h1').textContent")
    tab.goto(f"{hostile_server}/sparql")
    poll(tab, "document.querySelectorAll('#examples option').length > 1")
    options = tab.evaluate("[...document.querySelectorAll('#examples option')]"
                           ".map(o => o.textContent)")
    assert HOSTILE in options
    tab.select_option("#examples", label=HOSTILE)
    assert tab.evaluate("document.getElementById('example-description').textContent") == XSS_IMG
    tab.goto(f"{hostile_server}/nowhere/{quote(XSS_SCRIPT)}")
    tab.wait_for_timeout(300)
    assert tab.evaluate("window.__xss") is None and tab.dialogs == []
