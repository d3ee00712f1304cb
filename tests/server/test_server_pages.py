"""The server describes itself: the spec at /openapi.json and /openapi.yaml, and an API
page at / and /docs that a real browser renders offline, listing every operation."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import textwrap
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from starlette.applications import Starlette

from together_rerank.server import LocalServer, create_app
from together_rerank.server.pages import load_spec_text, routes

from .support import asgi_client

# A spec of its own, with what a page must survive: markup in text, two methods on one
# path, a shared response, no operationId.
FIXTURE_SPEC = textwrap.dedent(
    """
    openapi: 3.1.0
    info: {title: "Fixture <API>", version: 9.9.9, description: "Uses `code` & <b>tags</b>."}
    paths:
      /things:
        get:
          operationId: listThings
          summary: "List <script>alert(1)</script> things"
          responses:
            '200': {$ref: '#/components/responses/Many'}
        post:
          summary: Make a thing.
          requestBody:
            content:
              application/json:
                schema: {$ref: '#/components/schemas/Thing'}
                examples:
                  one: {summary: One thing, value: {name: "a & b"}}
          responses:
            '201': {description: Made.}
    components:
      responses:
        Many:
          description: Every thing.
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Thing'}}
      schemas:
        Thing:
          type: object
          required: [name]
          properties:
            name: {type: string, maxLength: 10, description: "Its `name`."}
    """
)

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Page(HTMLParser):
    """What a DOM holds that these tests look at: operation sections, scripts, links, text."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.operations: list[tuple[str, str]] = []
        self.tags: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        if tag == "section" and "operation" in (found.get("class") or "").split():
            self.operations.append((found.get("data-method") or "", found.get("data-path") or ""))
        for name in ("href", "src"):
            if found.get(name):
                self.links.append(str(found[name]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def spec_operations(spec: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (method.upper(), "/v1" + path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "delete", "patch")
    ]


async def get(app: Starlette, path: str) -> httpx.Response:
    async with asgi_client(app) as client:
        return await client.get(path)


async def test_the_spec_is_served_as_json_and_as_the_yaml_it_was_written_in() -> None:
    app = create_app()
    as_json = await get(app, "/openapi.json")
    as_yaml = await get(app, "/openapi.yaml")
    assert as_json.status_code == as_yaml.status_code == 200
    assert as_json.headers["content-type"] == "application/json"
    assert as_yaml.headers["content-type"] == "application/yaml"
    assert as_yaml.text == load_spec_text()
    assert as_json.json() == yaml.safe_load(load_spec_text())
    assert as_json.json()["paths"].keys() >= {"/rerank", "/embeddings", "/models"}


@pytest.mark.parametrize("path", ["/", "/docs"])
async def test_the_page_lists_every_operation_of_the_spec_and_needs_nothing_else(
    path: str,
) -> None:
    response = await get(Starlette(routes=routes(FIXTURE_SPEC)), path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = Page(response.text)
    assert page.operations == [("GET", "/v1/things"), ("POST", "/v1/things")]
    # Offline: no script, and every link stays on this page or this server.
    assert "script" not in page.tags
    assert all(link.startswith(("#", "/")) for link in page.links), page.links
    text = "".join(page.text)
    assert "List <script>alert(1)</script> things" in text  # shown, not run
    assert "Fixture <API>" in text
    assert '"name": "a & b"' in text
    assert "Every thing." in text  # the shared response, resolved
    assert "string (length <= 10)" in text


def test_a_spec_without_paths_fails_when_the_app_is_built() -> None:
    with pytest.raises(ValueError, match="no 'paths'"):
        routes("openapi: 3.1.0\ninfo: {title: x, version: '1'}\n")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "no chromium on PATH: `make install` installs Debian's (apt-get install chromium)"
        )
    return found


def browse(url: str, profile: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *options, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.mark.slow
def test_in_headless_chromium_the_docs_page_shows_every_operation(tmp_path: Path) -> None:
    screenshot = tmp_path / "docs.png"
    with LocalServer() as server:
        spec = httpx.get(f"{server.root_url}/openapi.json", timeout=10).json()
        dom = browse(f"{server.root_url}/docs", tmp_path / "profile", "--dump-dom").stdout
        browse(
            f"{server.root_url}/docs",
            tmp_path / "profile",
            f"--screenshot={screenshot}",
            "--window-size=1280,1600",
        )
    page = Page(dom)
    want = spec_operations(spec)
    assert len(want) >= 3
    assert page.operations == want
    text = " ".join("".join(page.text).split())
    for method, path in want:
        assert f"{method} {path}" in text
    assert png_size(screenshot) == (1280, 1600)
    # A blank page compresses to almost nothing; rendered text and tables do not.
    assert screenshot.stat().st_size > 20_000
    # Kept for a person to look at (pytest's tmp_path of this run).
    print(json.dumps({"screenshot": str(screenshot)}))
