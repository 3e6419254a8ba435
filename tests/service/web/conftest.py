"""Browser fixtures: a seeded store, two real servers and Debian's headless Chromium.

One ``nextshow serve`` process runs the API with its embedded Huey worker; a second one on the
same store runs ``--no-worker`` with a queue of its own, so its predictions stay pending (the
time-out path). Chromium is Debian's package, driven by Playwright with ``executable_path``;
every request to a host other than 127.0.0.1 is refused, so a page that needs the internet fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Fail, not skip, when Playwright is missing: the test extra installs it, so absence is a bug.
from playwright import sync_api
from sqlalchemy import insert, select, update

from nextshow.catalog.normalize import normalize_title
from nextshow.db.models import Rating, Show, User
from nextshow.evaluation.protocol import Protocol
from nextshow.pipeline.train import TrainOptions, train_version
from nextshow.registry.artifact_store import ArtifactStore
from nextshow.registry.snapshots import export_snapshot
from tests.conftest import REPO_ROOT, _make_store
from tests.pipeline.conftest import seed_ratings
from tests.service.conftest import train_and_promote
from tests.service.test_serve import free_port, wait_http

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).with_name("axe.min.js")
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
OFFICES = [
    ("The Office", 2001, 2003, "tt0290978", 8.5),
    ("The Office", 2005, 2013, "tt0386676", 9.0),
]


def seed_site(store: Any) -> None:
    """The pipeline's seeded likes, IMDb-like details, and two shows called "The Office"."""
    seed_ratings(store)
    with store.sessions() as s, s.begin():
        for show_id, external in s.execute(select(Show.id, Show.external_id)).all():
            i = int(external)
            s.execute(
                update(Show)
                .where(Show.id == show_id)
                .values(
                    imdb_id=f"tt{9100000 + i:07d}",
                    imdb_rating=round(6.0 + (i % 35) / 10, 1),
                    imdb_votes=1000 + 10 * i,
                    end_year=2003 + i % 20 if i % 3 else None,
                )
            )
        s.execute(
            insert(Show),
            [
                {
                    "title": title,
                    "normalized_title": normalize_title(title),
                    "source": "test",
                    "external_id": imdb_id,
                    "imdb_id": imdb_id,
                    "start_year": start,
                    "end_year": end,
                    "imdb_rating": rating,
                    "imdb_votes": 100_000,
                    "genres": "Comedy",
                }
                for title, start, end, imdb_id, rating in OFFICES
            ],
        )
        offices = s.scalars(select(Show.id).where(Show.title == "The Office")).all()
        users = s.scalars(select(User.id).order_by(User.id).limit(30)).all()
        s.execute(
            insert(Rating),
            [
                {
                    "user_id": u,
                    "show_id": offices[k % 2],
                    "rating": 9.0,
                    "liked": True,
                    "source": "test",
                }
                for k, u in enumerate(users)
            ],
        )


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Base URLs of the two servers, on a store with a production model and a candidate."""
    stores = _make_store("sqlite", tmp_path_factory.mktemp("web"), None)
    store = next(stores)
    seed_site(store)
    train_and_promote(store, "itemknn", k=20)
    artifacts = ArtifactStore(store.settings.artifacts_url)
    with store.sessions() as session, session.begin():
        snapshot_id = export_snapshot(session, artifacts, like_threshold=8.0, source="test")[0].id
    options = TrainOptions(model="popularity", params={}, protocol=Protocol(tune=False))
    train_version(store.sessions, artifacts, snapshot_id=snapshot_id, options=options)

    env = {
        **store.env(),
        "NEXTSHOW_RATE_LIMIT_PER_MINUTE": "0",
        "NEXTSHOW_MODEL_POLL_SECONDS": "1",
    }
    ports = {"app": free_port(), "stopped": free_port()}
    cmd = [sys.executable, "-m", "nextshow.cli", "serve", "--host", "127.0.0.1"]
    logs = tmp_path_factory.mktemp("logs")
    procs = {
        "app": subprocess.Popen(
            [*cmd, "--port", str(ports["app"])],
            env={**env, "NEXTSHOW_QUEUE_NAME": f"web-{uuid.uuid4().hex[:8]}"},
            stdout=(logs / "app.log").open("w"),
            stderr=subprocess.STDOUT,
        ),
        # Same store, no worker and a queue nobody reads: its predictions stay pending.
        "stopped": subprocess.Popen(
            [*cmd, "--no-worker", "--port", str(ports["stopped"])],
            env={**env, "NEXTSHOW_QUEUE_NAME": f"nobody-{uuid.uuid4().hex[:8]}"},
            stdout=(logs / "stopped.log").open("w"),
            stderr=subprocess.STDOUT,
        ),
    }
    try:
        for name, port in ports.items():
            wait_http(f"http://127.0.0.1:{port}/readyz", timeout=60, proc=procs[name])
        yield {name: f"http://127.0.0.1:{port}" for name, port in ports.items()} | {"store": store}
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGINT)
        for proc in procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        stores.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (dev.py test does)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Tab:
    """A page that records console errors and uncaught exceptions, with a few helpers."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def axe(self) -> None:
        """No serious or critical axe-core violations on the page as it is now."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate("async () => await axe.run(document)")
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:5])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"axe-core violations on {self.page.url}:\n" + "\n".join(bad)


def _tab(browser: Any, **context_options: Any) -> Iterator[Tab]:
    context = browser.new_context(**context_options)

    def local_only(route: Any) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "data:")):
            route.continue_()
        else:
            route.abort()  # nothing may come from the internet

    context.route("**/*", local_only)
    tab = Tab(context.new_page())
    tab.page.set_default_timeout(15_000)
    yield tab
    context.close()
    assert not tab.errors, f"browser console errors: {tab.errors}"


@pytest.fixture
def tab(browser: Any) -> Iterator[Tab]:
    """A desktop-width tab (1280 x 900)."""
    yield from _tab(browser, viewport={"width": 1280, "height": 900})


@pytest.fixture
def phone(browser: Any) -> Iterator[Tab]:
    """A phone-width tab (375 x 812, touch, device scale 2)."""
    yield from _tab(
        browser,
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
