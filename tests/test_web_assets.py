"""The web app's files: hashed assets cached for good and gzipped when the browser takes it; the index revalidated."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from flask import Flask

from backend import web

SCRIPT = "const spend = " + ", ".join(str(n) for n in range(2000)) + ";\n"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><html><script src="/assets/index-abc123.js"></script></html>')
    (tmp_path / "assets" / "index-abc123.js").write_text(SCRIPT)
    (tmp_path / "assets" / "tiny-abc123.css").write_text("a{}")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    return tmp_path


@pytest.fixture
def web_client(dist: Path):
    app = Flask(__name__)
    web.init_app(app, dist)
    return app.test_client()


def test_hashed_asset_is_gzipped_and_immutable(web_client):
    response = web_client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == web.IMMUTABLE
    assert "Accept-Encoding" in response.headers["Vary"]
    assert "javascript" in response.mimetype
    body = response.get_data()
    assert len(body) < len(SCRIPT.encode()) / 2
    assert gzip.decompress(body).decode() == SCRIPT
    # Revalidating with the ETag gets a 304 (a browser that ignored `immutable`).
    again = web_client.get(
        "/assets/index-abc123.js", headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_asset_without_gzip_is_sent_as_is(web_client):
    response = web_client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert response.get_data(as_text=True) == SCRIPT
    assert response.headers["Cache-Control"] == web.IMMUTABLE


def test_gzip_refused_with_zero_quality(web_client):
    response = web_client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in response.headers
    assert response.get_data(as_text=True) == SCRIPT


def test_small_asset_is_not_compressed(web_client):
    response = web_client.get("/assets/tiny-abc123.css", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert response.get_data(as_text=True) == "a{}"


def test_index_and_other_files_are_revalidated(web_client):
    index = web_client.get("/", headers={"Accept-Encoding": "gzip"})
    assert index.headers["Cache-Control"] == "no-cache"
    assert "Content-Encoding" not in index.headers
    icon = web_client.get("/favicon.svg")
    assert icon.status_code == 200
    assert "immutable" not in icon.headers.get("Cache-Control", "")


def test_missing_asset_is_404_not_the_index(web_client):
    """A chunk of an older build (a tab left open across an upgrade) is not answered with the app's index."""
    response = web_client.get("/assets/gone-000000.js")
    assert response.status_code == 404
    assert "immutable" not in response.headers.get("Cache-Control", "")
