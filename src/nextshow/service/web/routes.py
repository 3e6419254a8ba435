"""The web pages: home, waiting/results, about, models, explore; their static files; graph JSON.

Pages are rendered on the server from the same data the API serves; the JavaScript only adds
autocomplete, polling and the graph's interaction. Routes here read the store and the model
holder but never change them: predictions are made through the API (``POST /api/predictions``)
by the home page's script.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, computed_field

from nextshow.db.models import PredictionRequest
from nextshow.metric_definitions import definition
from nextshow.registry.versions import list_events, list_versions
from nextshow.schemas.common import MAX_SHOWS
from nextshow.schemas.models import ModelEventPublic, ModelVersionPublic
from nextshow.schemas.predictions import PredictionPublic
from nextshow.schemas.shows import ShowPublic
from nextshow.service.api.deps import ServicesDep, SessionDep
from nextshow.service.problems import ProblemError
from nextshow.service.web.charts import cached_versions_chart_svg
from nextshow.service.web.graph import NeighbourCache, NeighbourTable
from nextshow.service.web.refine import refine_context, type_label, unique_shows

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
# The metric the models chart compares, in order of preference (the first one every version has).
CHART_METRICS = ("ndcg@10", "recall@10", "precision@10", "hit@10")
# How long the waiting page polls before it gives up (seconds); ?timeout= overrides it.
DEFAULT_TIMEOUT = 60
SECOND_RING = 3  # neighbours shown for each of the centre's neighbours

templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(tags=["web"], include_in_schema=False)


def _when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _years(start: int | None, end: int | None) -> str:
    if start is None:
        return ""
    if end is None or end == start:
        return str(start)
    return f"{start}–{end}"


templates.env.filters["when"] = _when
templates.env.filters["thousands"] = lambda n: f"{n:,}"
templates.env.globals["type_label"] = type_label
templates.env.globals["years"] = _years
templates.env.globals["max_shows"] = MAX_SHOWS


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """A page in the site's layout (``name`` marks its entry in the navigation); the footer
    says which catalogue is served."""
    services = request.app.state.services
    catalogue = services.catalogue.text(services.sessions)
    context = {"active": name, "catalogue": catalogue, **context}
    return templates.TemplateResponse(request, name, context, status)


_page = render


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    return _page(request, "home.html", {"title": "What have you enjoyed watching?"})


@router.get("/results/{prediction_id}", response_class=HTMLResponse)
def results(
    request: Request,
    prediction_id: str,
    session: SessionDep,
    timeout: Annotated[int, Query(ge=1, le=600)] = DEFAULT_TIMEOUT,
) -> Response:
    """The shareable page of one prediction: waiting while pending, then its results."""
    try:
        key = str(uuid.UUID(prediction_id))
    except ValueError:
        key = None  # not a UUID: no such prediction
    row = session.get(PredictionRequest, key) if key else None
    if row is None:
        context = {"title": "Not found", "prediction_id": prediction_id}
        return _page(request, "not_found.html", context, status=404)
    body = PredictionPublic.model_validate(row)
    matches = body.matches
    # One show typed several ways ("Inception", "inception (2010)") is named once.
    liked = unique_shows(m.show for m in matches if m.liked and m.show)
    recs = body.recommendations or []
    context = {
        "prediction": body,
        "prediction_id": body.prediction_id,
        "matches": matches,
        "liked": [{"show": s} for s in liked],
        "created": [m for m in matches if m.status == "created"],
        "unused": [m for m in matches if not m.liked],
        "inputs": [m.input for m in matches],
        "timeout": timeout,
        "recommendations": recs,
        "model": body.model,
        "notice": body.notice,
        "updated_at": body.updated_at,
    }
    if body.status == "done":
        context |= refine_context(liked, recs)
        return _page(request, "results.html", {"title": "Your recommendations", **context})
    return _page(request, "waiting.html", {"title": "Finding shows for you…", **context})


@router.get("/about", response_class=HTMLResponse)
def about(request: Request) -> Response:
    return _page(request, "about.html", {"title": "About nextshow"})


def _chart_metric(versions: list[ModelVersionPublic]) -> str | None:
    for metric in CHART_METRICS:
        if versions and all(metric in v.metrics for v in versions):
            return metric
    return None


def _registry(services: Any, session: Any) -> dict[str, Any]:
    versions = [ModelVersionPublic.model_validate(v) for v in list_versions(session)]
    return {"versions": versions, "status": services.holder.status()}


def _latest_report_chart(reports_dir: Path) -> Path | None:
    if not reports_dir.is_dir():
        return None
    charts = sorted(reports_dir.glob("evaluation-*/ndcg.png"))
    return charts[-1] if charts else None


@router.get("/models", response_class=HTMLResponse)
def models(request: Request, services: ServicesDep, session: SessionDep) -> Response:
    registry = _registry(services, session)
    versions = registry["versions"]
    status = registry["status"]
    serving = next((v for v in versions if v.version == status.version_id), None)
    metric_names = sorted({k for v in versions for k in v.metrics})
    events = [ModelEventPublic.model_validate(e) for e in reversed(list_events(session))][:12]
    context = {
        "title": "Models",
        "versions": versions,
        "status": status,
        "serving": serving,
        "metric_names": metric_names,
        "definition": definition,
        "chart_metric": _chart_metric(versions),
        "events": events,
        "report_chart": _latest_report_chart(services.settings.reports_dir) is not None,
    }
    return _page(request, "models.html", context)


@router.get("/models/chart.svg")
def models_chart(services: ServicesDep, session: SessionDep) -> Response:
    """The registry's versions compared on one metric, drawn now from the stored metrics."""
    registry = _registry(services, session)
    versions = registry["versions"]
    metric = _chart_metric(versions)
    if metric is None:
        raise ProblemError(404, "no versions with a common metric to compare", kind="not-found")
    serving = registry["status"].version_id
    svg = cached_versions_chart_svg(
        [f"v{v.version} {v.model}" for v in versions],
        [float(v.metrics[metric]) for v in versions],
        metric=metric,
        highlight=next((i for i, v in enumerate(versions) if v.version == serving), None),
    )
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-cache"})


@router.get("/models/evaluation.png")
def evaluation_chart(services: ServicesDep) -> Response:
    """The chart of the newest evaluation report (``nextshow evaluate``), if there is one."""
    path = _latest_report_chart(services.settings.reports_dir)
    if path is None:
        raise ProblemError(404, "no evaluation report has been written yet", kind="not-found")
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "no-cache"})


@router.get("/explore", response_class=HTMLResponse)
def explore(
    request: Request,
    show: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    return _page(request, "explore.html", {"title": "Explore", "centre": show})


class GraphNode(ShowPublic):
    """A show as the graph draws it: the answer's show, its likes and its ring."""

    likes: int
    ring: int  # 0 the centre, 1 its neighbours, 2 theirs

    @computed_field  # type: ignore[prop-decorator]
    @property
    def years(self) -> str:
        return _years(self.start_year, self.end_year)


class GraphLink(BaseModel):
    source: int
    target: int
    similarity: float


class GraphPublic(BaseModel):
    centre: int | None
    nodes: list[GraphNode]
    links: list[GraphLink]


def _neighbours(request: Request, services: Any) -> NeighbourTable:
    cache = getattr(request.app.state, "neighbour_cache", None)
    if cache is None:
        cache = request.app.state.neighbour_cache = NeighbourCache()
    return cache.get(services.sessions)


@router.get("/explore/graph", response_model=GraphPublic)
def explore_graph(
    request: Request,
    services: ServicesDep,
    show: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> dict[str, Any]:
    """A show, its nearest neighbours and a few of theirs (default: the most liked show)."""
    table = _neighbours(request, services)
    centre = show if show is not None else table.most_liked
    if centre is None:
        return {"centre": None, "nodes": [], "links": []}
    if centre not in table.nodes:
        raise ProblemError(404, f"show {centre} has no likes yet: no neighbours", kind="not-found")
    rings = {centre: 0}
    for other, _ in table.neighbours.get(centre, ()):
        rings.setdefault(other, 1)
    for first in [s for s, r in rings.items() if r == 1]:
        for other, _ in table.neighbours.get(first, ())[:SECOND_RING]:
            rings.setdefault(other, 2)
    links: dict[tuple[int, int], float] = {}
    for a in rings:
        for b, sim in table.neighbours.get(a, ()):
            if b in rings and (b, a) not in links and abs(rings[a] - rings[b]) == 1:
                links[(a, b)] = sim
    return {
        "centre": centre,
        "nodes": [
            GraphNode(
                **table.nodes[s].model_dump(exclude={"imdb_url"}), likes=table.likes[s], ring=r
            )
            for s, r in rings.items()
            if s in table.nodes
        ],
        "links": [{"source": a, "target": b, "similarity": s} for (a, b), s in links.items()],
    }


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The pages' CSS and scripts (a fixed set of files in this package)."""
    path = STATIC_DIR / name
    media_type = STATIC_TYPES.get(path.suffix)
    if "/" in name or media_type is None or not path.is_file():
        raise ProblemError(404, f"no static file {name}", kind="not-found")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "no-cache"})
