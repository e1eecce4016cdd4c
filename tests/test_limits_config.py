"""Configuration that guards production: the settings table in the README is the registry's,
no debug mode is reachable, the rate limit answers 429 with Retry-After, and no setting is a
half-open door (there is no update mode)."""

from __future__ import annotations

import pytest

from tests.conftest import REPO, app_settings
from tipgraph.config import SETTINGS, load_config, readme_with_settings
from tipgraph.errors import ConfigError
from tipgraph.web.app import create_app
from tipgraph.web.ratelimit import RateLimiter


def test_readme_settings_table_is_up_to_date():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert readme == readme_with_settings(readme), (
        "the README's settings table is stale: run\n  PYTHONPATH=src python -c \"from pathlib "
        "import Path; from tipgraph.config import readme_with_settings as r; p = Path("
        "'README.md'); p.write_text(r(p.read_text()))\"")
    for setting in SETTINGS:
        assert f"`{setting.name}`" in readme


def test_there_is_no_update_mode():
    assert "allow_update" not in {s.name for s in SETTINGS}
    with pytest.raises(ConfigError, match="unknown setting"):
        load_config({"allow_update": True}, environ={})


def test_debug_is_off_whatever_the_environment(kg, config, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = create_app(app_settings(config, query_workers=0), kg=kg)
    assert app.debug is False and app.config["DEBUG"] is False

    @app.get("/_boom")
    def boom():
        raise RuntimeError("secret internals /etc/shadow")

    client = app.test_client()
    for headers in ({}, {"Accept": "text/html"}):
        response = client.get("/_boom", headers=headers)
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "secret internals" not in body and "Traceback" not in body
        assert "Werkzeug Debugger" not in body and "__debugger__" not in body
    assert client.get("/_boom?__debugger__=yes&cmd=resource&f=debugger.js").status_code == 500
    assert client.get("/console").status_code == 404


def test_rate_limit_is_off_by_default(kg, config):
    app = create_app(app_settings(config, query_workers=0), kg=kg)
    client = app.test_client()
    assert all(client.get("/graph.json").status_code == 200 for _ in range(30))


def test_rate_limit_answers_429_with_retry_after(kg, config):
    app = create_app(app_settings(config, query_workers=0, rate_limit=5), kg=kg)
    client = app.test_client()
    statuses = [client.get("/id/ecowas.ttl").status_code for _ in range(5)]
    assert statuses == [200] * 5
    refused = client.get("/id/ecowas.ttl", headers={"Accept": "application/json"})
    assert refused.status_code == 429
    assert refused.get_json() == {"error": refused.get_json()["error"], "status": 429}
    assert "5 per minute" in refused.get_json()["error"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 12
    assert client.get("/health").status_code == 200  # monitoring is never limited
    other = client.get("/id/ecowas.ttl", environ_overrides={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200  # per client


def test_rate_limiter_refills_at_the_configured_pace():
    now = [1000.0]
    limiter = RateLimiter(60, clock=lambda: now[0])  # one a second, bursts of 60
    assert all(limiter.acquire("a") == 0.0 for _ in range(60))
    assert limiter.acquire("a") == pytest.approx(1.0)
    now[0] += 0.5
    assert limiter.acquire("a") == pytest.approx(0.5)
    now[0] += 0.5
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("b") == 0.0
