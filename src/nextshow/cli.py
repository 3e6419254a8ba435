"""The ``nextshow`` command: one entry point, one sub-command per job."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from nextshow.db.models import ModelVersion
    from nextshow.registry.artifact_store import ArtifactStore

from nextshow import __version__
from nextshow.config import Settings, get_settings
from nextshow.progress import progress_enabled
from nextshow.ratings.records import FORMATS as RATING_FORMATS
from nextshow.rejects import ImportSummary

log = logging.getLogger("nextshow")

EXIT_REJECTS = 1  # the command finished, but some input rows were rejected
EXIT_REFUSED = 3  # the quality gate refused a promotion


@dataclass
class AppContext:
    """What every sub-command needs: settings, and a migrated database on first use."""

    settings: Settings
    ctx: click.Context

    @cached_property
    def engine(self) -> Engine:
        from nextshow.db.session import ensure_schema, make_engine

        self.settings.ensure_home()
        engine = make_engine(self.settings.db_url)
        ensure_schema(engine)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        from nextshow.db.session import session_factory

        return session_factory(self.engine)

    @cached_property
    def artifacts(self) -> ArtifactStore:
        from nextshow.registry.artifact_store import ArtifactStore

        return ArtifactStore(self.settings.artifacts_url, self.settings.artifact_options)

    @property
    def progress(self) -> bool:
        return progress_enabled(self.settings.progress)


pass_app = click.make_pass_decorator(AppContext)


def _report_import(summary: ImportSummary, as_json: bool) -> None:
    """Print an import summary and exit non-zero when anything was rejected."""
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2))
    else:
        click.echo(
            f"imported {summary.inserted}, updated {summary.updated}, "
            f"unchanged {summary.unchanged}, skipped {summary.skipped}, "
            f"rejected {summary.rejected}"
        )
    if summary.rejects:
        shown = summary.rejects[:20]
        for reject in shown:
            click.echo(f"rejected {reject}", err=True)
        if summary.rejected > len(shown):
            click.echo(f"... and {summary.rejected - len(shown)} more", err=True)
        if summary.report_path:
            click.echo(f"rejects report: {summary.report_path}", err=True)
        sys.exit(EXIT_REJECTS)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nextshow")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """nextshow: tell it shows you like, get shows you will probably like."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = AppContext(get_settings(), ctx)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def status(app: AppContext, as_json: bool) -> None:
    """Counts of shows, users, ratings and likes, and where they are stored."""
    from nextshow.db.stats import store_counts
    from nextshow.registry.versions import production_version

    with app.sessions() as session:
        current = production_version(session)
        info: dict[str, object] = {
            "version": __version__,
            "home": str(app.settings.home),
            "database_url": app.settings.safe_db_url,
            **store_counts(session),
            "production_model": (
                None
                if current is None
                else {
                    "version": current.id,
                    "model": current.model_name,
                    "snapshot": current.snapshot_id,
                }
            ),
        }
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            click.echo(f"{key:>17}: {value}")


@cli.group()
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@pass_app
def db_upgrade(app: AppContext, revision: str) -> None:
    """Apply schema migrations (also done automatically on start)."""
    from nextshow.db.session import current_revision, make_engine, upgrade

    app.settings.ensure_home()
    engine = make_engine(app.settings.db_url)
    upgrade(engine, revision)
    click.echo(f"database at revision {current_revision(engine)}")


def imdb_filter_options(command: Callable[..., None]) -> Callable[..., None]:
    """The catalogue filters shared by `import imdb-titles` and `collect imdb-datasets`."""
    command = click.option(
        "--min-votes", default=500, show_default=True, type=click.IntRange(min=0)
    )(command)
    return click.option(
        "--title-types",
        default="tvSeries,tvMiniSeries",
        show_default=True,
        help="Comma-separated IMDb title types to keep.",
    )(command)


@cli.group("import")
def import_group() -> None:
    """Import shows and ratings from files."""


@import_group.command("imdb-titles")
@click.argument("basics", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("ratings", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@imdb_filter_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable summary.")
@pass_app
def import_imdb_titles_cmd(
    app: AppContext, basics: Path, ratings: Path, title_types: str, min_votes: int, as_json: bool
) -> None:
    """Stream IMDb's title.basics and title.ratings TSV files (.tsv/.tsv.gz) into the catalogue."""
    from nextshow.catalog.imdb_import import import_imdb_titles

    types = frozenset(t.strip() for t in title_types.split(",") if t.strip())
    summary = import_imdb_titles(
        app.sessions,
        basics,
        ratings,
        title_types=types,
        min_votes=min_votes,
        batch_size=app.settings.import_batch_size,
        progress=app.progress,
        reports_dir=app.settings.reports_dir,
    )
    _report_import(summary, as_json)


@import_group.command("ratings")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(RATING_FORMATS),
    required=True,
    help="File format.",
)
@click.option(
    "--items",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Titles file (movies.dat / u.item); default: found beside PATH.",
)
@click.option("--like-threshold", type=click.FloatRange(0, 10), help="Rating >= N is a like.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable summary.")
@pass_app
def import_ratings_cmd(
    app: AppContext,
    path: Path,
    fmt: str,
    items: Path | None,
    like_threshold: float | None,
    as_json: bool,
) -> None:
    """Import ratings from a CSV, MovieLens or MovieTweetings file."""
    from nextshow.ratings.importer import import_ratings

    try:
        summary = import_ratings(
            app.sessions,
            path,
            fmt=fmt,
            items_path=items,
            like_threshold=app.settings.like_threshold
            if like_threshold is None
            else like_threshold,
            batch_size=app.settings.import_batch_size,
            progress=app.progress,
            reports_dir=app.settings.reports_dir,
        )
    except (FileNotFoundError, ValueError) as exc:  # e.g. a MovieLens file without its items
        raise click.ClickException(str(exc)) from exc
    _report_import(summary, as_json)


@cli.command()
@pass_app
def demo(app: AppContext) -> None:
    """Load the bundled MovieTweetings demo data into an empty store (skipped when not empty)."""
    from nextshow.ratings.demo import load_demo

    summary = load_demo(app.sessions, app.settings, progress=app.progress)
    if summary is None:
        click.echo("store already holds ratings: demo data not loaded again")
    else:
        _report_import(summary, as_json=False)


@cli.group()
def shows() -> None:
    """Look up shows in the catalogue."""


@shows.command("search")
@click.argument("query")
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def shows_search(app: AppContext, query: str, limit: int, as_json: bool) -> None:
    """Autocomplete-style search: prefix first, then fuzzy matches."""
    from nextshow.catalog.matching import load_title_index

    with app.sessions() as session:
        index = load_title_index(session)
    hits = index.search(query, limit=limit)
    if as_json:
        click.echo(json.dumps([hit.as_dict() for hit in hits], indent=2))
        return
    for hit in hits:
        year = hit.start_year or "?"
        click.echo(f"{hit.show_id:>7}  {hit.score:5.1f}  {hit.title} ({year})")


@shows.command("match")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def shows_match(app: AppContext, text: str, as_json: bool) -> None:
    """Resolve what a user typed (title, "Title (Year)" or IMDb id) to catalogue shows."""
    from nextshow.catalog.matching import load_title_index

    with app.sessions() as session:
        index = load_title_index(session)
    result = index.match(text)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    click.echo(f"{result.status}: {text!r}")
    for hit in result.candidates:
        click.echo(f"{hit.show_id:>7}  {hit.score:5.1f}  {hit.title} ({hit.start_year or '?'})")


@cli.command("evaluate")
@click.option(
    "--data",
    "source",
    default="demo",
    show_default=True,
    help="'demo' (bundled MovieTweetings sample) or a ratings file path.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(RATING_FORMATS),
    help="Ratings file format (default: movietweetings for .dat, else csv).",
)
@click.option(
    "--models", default="all", show_default=True, help="'all' or comma-separated model names."
)
@click.option("--k", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--min-likes",
    default=5,
    show_default=True,
    type=click.IntRange(min=2),
    help="Users with at least this many likes are test users.",
)
@click.option("--no-tune", is_flag=True, help="Default parameters: skip the validation search.")
@click.option(
    "--split",
    "split_rule",
    type=click.Choice(["user-time", "global-time"]),
    default="user-time",
    show_default=True,
    help="user-time: each user's last 20 % (the original heuristic); global-time: one cut-off "
    "time for everyone, so no model sees likes from after the held-out ones.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Report folder (default: <home>/reports/evaluation-<timestamp>).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def evaluate_cmd(
    app: AppContext,
    source: str,
    fmt: str | None,
    models: str,
    k: int,
    min_likes: int,
    no_tune: bool,
    split_rule: str,
    out: Path | None,
    as_json: bool,
) -> None:
    """Compare models offline: hold out each prolific user's latest likes, score the top k."""
    from nextshow.evaluation.dataset import load_interactions
    from nextshow.evaluation.evaluate import parse_model_names, run_evaluation
    from nextshow.evaluation.report import default_out_dir, text_report, write_report

    try:
        names = parse_model_names(models)
        interactions = load_interactions(source, fmt, like_threshold=app.settings.like_threshold)
    except ValueError as err:
        raise click.UsageError(str(err)) from err
    result = run_evaluation(
        interactions,
        names,
        k=k,
        min_likes=min_likes,
        tune=not no_tune,
        seed=42,
        progress=app.progress,
        split_rule=split_rule,
    )
    out_dir = out or default_out_dir(app.settings.reports_dir)
    paths = write_report(result, out_dir)
    if as_json:
        payload = {**result.as_dict(), "report": {kind: str(p) for kind, p in paths.items()}}
        click.echo(json.dumps(payload, indent=2, default=str))
    else:
        click.echo(text_report(result))
        click.echo(f"\nreport: {paths['markdown']}\nchart:  {paths['chart']}")


def _parse_params(pairs: tuple[str, ...]) -> dict[str, object]:
    """``k=v`` pairs; values read as JSON when they parse (numbers, true/false), else strings."""
    params: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--param")
        try:
            params[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            params[key.strip()] = value
    return params


def _version_row(version: ModelVersion) -> dict[str, object]:
    return {
        "version": version.id,
        "stage": version.stage,
        "model": version.model_name,
        "params": json.loads(version.params),
        "snapshot": version.snapshot_id,
        "metrics": json.loads(version.metrics),
        "fit_seconds": round(version.fit_seconds, 3),
        "artifact_bytes": version.artifact_bytes,
        "code_version": version.code_version,
        "git_commit": version.git_commit,
        "created_at": version.created_at.isoformat(),
        "promoted_at": version.promoted_at.isoformat() if version.promoted_at else None,
    }


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@pass_app
def snapshot(app: AppContext, as_json: bool) -> None:
    """Freeze shows and ratings into an immutable, content-addressed Parquet snapshot."""
    from nextshow.registry.snapshots import export_snapshot

    with app.sessions() as session, session.begin():
        manifest, created = export_snapshot(
            session,
            app.artifacts,
            like_threshold=app.settings.like_threshold,
            source=app.settings.safe_db_url,
        )
    if as_json:
        click.echo(manifest.to_json())
        return
    state = "new" if created else "unchanged data, existing"
    click.echo(
        f"snapshot {manifest.id} ({state}): {manifest.rows} ratings, {manifest.users} users, "
        f"{manifest.shows} shows, {manifest.likes} likes"
    )


@cli.command()
@click.option(
    "--snapshot",
    "snapshot_id",
    default="latest",
    show_default=True,
    help="Snapshot id, or 'latest' (one is taken first when none exists).",
)
@click.option("--model", default=None, help="Registered model name; default: settings.")
@click.option("--param", "params", multiple=True, help="Hyperparameter k=v (repeatable).")
@click.option("--no-tune", is_flag=True, help="Use default parameters, skip the search.")
@click.option("--promote", "then_promote", is_flag=True, help="Promote through the gate after.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def train(
    app: AppContext,
    snapshot_id: str,
    model: str | None,
    params: tuple[str, ...],
    no_tune: bool,
    then_promote: bool,
    as_json: bool,
) -> None:
    """Train a model from a snapshot, evaluate it and register it as a candidate version."""
    from nextshow.pipeline.train import TrainOptions, train_version
    from nextshow.recommenders import registry
    from nextshow.registry.snapshots import export_snapshot, latest_snapshot_id

    name = model or app.settings.default_model
    if name not in registry.names():
        raise click.BadParameter(
            f"unknown model {name!r}; known: {', '.join(registry.names())}", param_hint="--model"
        )
    options = TrainOptions(model=name, params=_parse_params(params), tune=not no_tune)
    if snapshot_id == "latest":
        with app.sessions() as session, session.begin():
            snapshot_id = (
                latest_snapshot_id(session)
                or export_snapshot(
                    session,
                    app.artifacts,
                    like_threshold=app.settings.like_threshold,
                    source=app.settings.safe_db_url,
                )[0].id
            )
    try:
        result = train_version(
            app.sessions,
            app.artifacts,
            snapshot_id=snapshot_id,
            options=options,
            progress=app.progress,
        )
    except ValueError as exc:  # bad params, empty snapshot: the user's input, not a crash
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result.__dict__, indent=2, default=str))
    else:
        ndcg = result.metrics.get("ndcg@10", float("nan"))
        click.echo(
            f"version {result.version_id}: {result.model} {result.params} on snapshot "
            f"{result.snapshot_id}: ndcg@10 {ndcg:.4f}, fit {result.fit_seconds:.2f} s, "
            f"{result.artifact_bytes / 1e6:.1f} MB, total {result.wall_seconds:.1f} s"
        )
    if then_promote:
        app.ctx.invoke(promote_cmd, version=result.version_id)


@cli.command("models")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--events", is_flag=True, help="Show the promotion history too.")
@pass_app
def models_cmd(app: AppContext, as_json: bool, events: bool) -> None:
    """List model versions with stage and metrics."""
    from nextshow.registry.versions import list_events, list_versions

    with app.sessions() as session:
        rows = [_version_row(v) for v in list_versions(session)]
        history = [
            {
                "at": e.at.isoformat(),
                "action": e.action,
                "version": e.version_id,
                "previous_production": e.previous_production_id,
                "forced": e.forced,
                "reason": e.reason,
            }
            for e in list_events(session)
        ]
    if as_json:
        click.echo(json.dumps({"versions": rows, "events": history}, indent=2))
        return
    if not rows:
        click.echo("no model versions yet: run `nextshow train`")
    for row in rows:
        metrics = row["metrics"]
        click.echo(
            f"{row['version']:>4}  {row['stage']:<10}  {row['model']:<18} "
            f"ndcg@10 {metrics.get('ndcg@10', float('nan')):.4f}  "
            f"p@10 {metrics.get('precision@10', float('nan')):.4f}  "
            f"snapshot {row['snapshot']}  {row['created_at'][:19]}"
        )
    if events:
        for event in history:
            extra = (
                f" (from {event['previous_production']})" if event["previous_production"] else ""
            )
            forced = " FORCED" if event["forced"] else ""
            click.echo(
                f"{event['at'][:19]}  {event['action']:<8} v{event['version']}{extra}{forced}"
                f"  {event['reason'] or ''}"
            )


@cli.command("promote")
@click.argument("version", type=int)
@click.option("--force", is_flag=True, help="Promote even when the gate refuses (needs --reason).")
@click.option("--reason", default=None, help="Why (recorded; required with --force).")
@click.option(
    "--tolerance",
    type=click.FloatRange(0, 1, max_open=True),
    default=None,
    help="Relative tolerance; default: NEXTSHOW_GATE_TOLERANCE.",
)
@pass_app
def promote_cmd(
    app: AppContext, version: int, force: bool, reason: str | None, tolerance: float | None
) -> None:
    """Make VERSION production if it is not worse than production (the quality gate)."""
    from nextshow.pipeline.promotion import promote_with_gate
    from nextshow.registry.versions import GateRefused, RegistryError

    try:
        decision = promote_with_gate(
            app.sessions,
            app.artifacts,
            version_id=version,
            metric=app.settings.gate_metric,
            tolerance=app.settings.gate_tolerance if tolerance is None else tolerance,
            force=force,
            reason=reason,
        )
    except GateRefused as refused:
        click.echo(f"refused: {refused}", err=True)
        click.echo("use --force --reason '...' to promote anyway", err=True)
        sys.exit(EXIT_REFUSED)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc
    forced = " (forced)" if force and not decision.passed else ""
    click.echo(f"version {version} is now in production{forced}: {decision.explain()}")


@cli.command()
@click.option("--reason", default=None, help="Why (recorded).")
@pass_app
def rollback(app: AppContext, reason: str | None) -> None:
    """Return production to the version the current one replaced."""
    from nextshow.registry.versions import RegistryError
    from nextshow.registry.versions import rollback as do_rollback

    try:
        with app.sessions() as session, session.begin():
            event = do_rollback(session, reason=reason)
            back_to, left = event.version_id, event.previous_production_id
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"production is version {back_to} again (version {left} archived)")


@cli.command()
@click.option(
    "--if-needed",
    is_flag=True,
    help="Only when NEXTSHOW_RETRAIN_MIN_NEW_LIKES likes arrived since production.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def retrain(app: AppContext, if_needed: bool, as_json: bool) -> None:
    """Snapshot, train the default model, and promote it through the gate."""
    from nextshow.pipeline.triggers import retrain_if_needed, run_pipeline

    if if_needed:
        outcome = retrain_if_needed(
            app.sessions, app.artifacts, app.settings, progress=app.progress
        )
    else:
        outcome = run_pipeline(
            app.sessions, app.artifacts, app.settings, trigger="manual", progress=app.progress
        )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ran": outcome.ran,
                    "promoted": outcome.promoted,
                    "reason": outcome.reason,
                    "new_likes": outcome.new_likes,
                    "version": outcome.train.version_id if outcome.train else None,
                },
                indent=2,
            )
        )
    else:
        version = f"version {outcome.train.version_id}: " if outcome.train else ""
        click.echo(
            f"{version}{'promoted' if outcome.promoted else 'not promoted'}: {outcome.reason}"
        )


@cli.command()
@click.option(
    "--poll",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between checks.",
)
@click.option("--once", is_flag=True, help="Check the triggers once and exit.")
@pass_app
def scheduler(app: AppContext, poll: float, once: bool) -> None:
    """Run the automatic retrain triggers (schedule and new likes) until interrupted."""
    from nextshow.pipeline.triggers import run_scheduler

    settings = app.settings
    click.echo(
        f"scheduler: every {settings.retrain_interval_hours or 'off'} h, "
        f"after {settings.retrain_min_new_likes or 'off'} new likes; checking every {poll} s"
    )
    try:
        outcomes = run_scheduler(
            app.sessions, app.artifacts, settings, poll_seconds=poll, max_checks=1 if once else None
        )
    except KeyboardInterrupt:
        return
    for outcome in outcomes:
        click.echo(f"{outcome.trigger}: {'ran' if outcome.ran else 'skipped'}: {outcome.reason}")


@cli.command()
@click.option("--host", default=None, help="Address to listen on; default: NEXTSHOW_HOST.")
@click.option("--port", default=None, type=click.IntRange(0, 65535), help="Default: NEXTSHOW_PORT.")
@click.option(
    "--worker/--no-worker",
    default=True,
    show_default=True,
    help="Run the queue worker alongside the API (the default); --no-worker for API only.",
)
@click.option(
    "--worker-mode",
    type=click.Choice(["process", "thread"]),
    default="process",
    show_default=True,
    help="The worker as a child process (uses a second core) or as threads in the API process.",
)
@click.option("--threads", default=None, type=click.IntRange(1, 64), help="Worker threads.")
@pass_app
def serve(
    app: AppContext,
    host: str | None,
    port: int | None,
    worker: bool,
    worker_mode: str,
    threads: int | None,
) -> None:
    """Run the API (and, by default, the queue worker) until interrupted."""
    import uvicorn

    from nextshow.service.app import create_app
    from nextshow.service.worker_process import start_worker_process, stop_worker_process

    settings = app.settings
    if threads is not None:
        settings = settings.model_copy(update={"worker_threads": threads})
    logging.getLogger("nextshow").setLevel(min(logging.INFO, logging.getLogger().level))
    child = None
    if worker and worker_mode == "process":
        child = start_worker_process(threads)
        click.echo(
            f"serve: queue worker process {child.pid} ({settings.worker_threads} worker threads)",
            err=True,
        )
    try:
        uvicorn.run(
            create_app(settings, run_worker=worker and worker_mode == "thread"),
            host=host or settings.host,
            port=settings.port if port is None else port,
            log_level="info",
            access_log=False,
        )
    finally:
        if child is not None:
            stop_worker_process(child)


@cli.command()
@click.option("--threads", default=None, type=click.IntRange(1, 64), help="Worker threads.")
@pass_app
def worker(app: AppContext, threads: int | None) -> None:
    """Run queue workers only (the scale configuration: one or more per machine)."""
    from nextshow.service.queue import PredictionQueue

    settings = app.settings
    logging.getLogger("nextshow").setLevel(min(logging.INFO, logging.getLogger().level))
    queue = PredictionQueue(settings)
    queue.context()  # open the database and load the model before taking tasks
    from nextshow.service.holder import freeze_long_lived

    freeze_long_lived()
    consumer = queue.huey.create_consumer(**queue.consumer_options(threads))
    click.echo(f"worker: {consumer.workers} threads on {settings.effective_queue_url}", err=True)
    consumer.run()


@cli.group("collect")
def collect_group() -> None:
    """Collect data from IMDb: the title datasets and users' review ratings."""


@collect_group.command("imdb-datasets")
@click.option(
    "--base-url", default=None, help="Datasets host; default: NEXTSHOW_IMDB_DATASETS_URL."
)
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Download folder; default: <home>/collect/imdb.",
)
@click.option("--no-import", is_flag=True, help="Download only; do not import the catalogue.")
@imdb_filter_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable summary.")
@pass_app
def collect_imdb_datasets_cmd(
    app: AppContext,
    base_url: str | None,
    dest: Path | None,
    no_import: bool,
    title_types: str,
    min_votes: int,
    as_json: bool,
) -> None:
    """Download title.basics and title.ratings (resumable, skipped when unchanged), then import."""
    from nextshow.catalog.imdb_import import import_imdb_titles
    from nextshow.collect.downloader import DownloadError, download_imdb_datasets

    settings = app.settings
    folder = dest or settings.collect_dir / "imdb"
    try:
        results = download_imdb_datasets(
            base_url or settings.imdb_datasets_url,
            folder,
            user_agent=settings.collect_user_agent,
            progress=app.progress,
            timeout=settings.collect_timeout,
            attempts=settings.collect_retry_times + 1,
            backoff=settings.collect_retry_backoff,
        )
    except DownloadError as exc:
        raise click.ClickException(str(exc)) from exc
    if not as_json:
        for result in results:
            resumed = f", resumed at byte {result.resumed_from}" if result.resumed_from else ""
            click.echo(
                f"{result.path.name}: {result.status} ({result.bytes_fetched} bytes fetched"
                f"{resumed}; {result.size} bytes on disk)"
            )
    if no_import:
        if as_json:
            click.echo(json.dumps({"downloads": [r.as_dict() for r in results]}, indent=2))
        return
    summary = import_imdb_titles(
        app.sessions,
        results[0].path,
        results[1].path,
        title_types=frozenset(t.strip() for t in title_types.split(",") if t.strip()),
        min_votes=min_votes,
        batch_size=settings.import_batch_size,
        progress=app.progress,
        reports_dir=settings.reports_dir,
    )
    if as_json:
        payload = {"downloads": [r.as_dict() for r in results], "import": summary.as_dict()}
        click.echo(json.dumps(payload, indent=2))
        if summary.rejects:
            sys.exit(EXIT_REJECTS)
        return
    _report_import(summary, as_json=False)


@collect_group.command("reviews")
@click.option("--top", type=click.IntRange(min=1), help="The N catalogue shows with most votes.")
@click.option("--ids", help="Comma-separated IMDb ids (tt…), crawled in the order given.")
@click.option(
    "--max-pages",
    type=click.IntRange(min=1),
    default=None,
    help="Review pages per show at most; default: NEXTSHOW_COLLECT_MAX_PAGES.",
)
@click.option(
    "--job-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Resumable job folder (queue, HTTP cache, CSV); default: <home>/collect/reviews.",
)
@click.option("--base-url", default=None, help="Review site; default: NEXTSHOW_IMDB_REVIEWS_URL.")
@click.option(
    "--no-politeness",
    is_flag=True,
    help="Benchmarks against a local server only: no robots.txt, delay, throttle or cache.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable summary.")
@pass_app
def collect_reviews_cmd(
    app: AppContext,
    top: int | None,
    ids: str | None,
    max_pages: int | None,
    job_dir: Path | None,
    base_url: str | None,
    no_politeness: bool,
    as_json: bool,
) -> None:
    """Crawl users' review ratings of shows, most-reviewed first, and import them."""
    from nextshow.collect.crawl import CrawlError, collect_reviews, is_local_url, top_shows
    from nextshow.collect.spider import CrawlConfig
    from nextshow.ids import is_imdb_id

    if (top is None) == (ids is None):
        raise click.UsageError("give exactly one of --top N or --ids tt…")
    base_url = base_url or app.settings.imdb_reviews_url
    if no_politeness and not is_local_url(base_url):
        raise click.UsageError("--no-politeness is for benchmarks against a local server only")
    if ids is not None:
        imdb_ids = list(dict.fromkeys(i.strip() for i in ids.split(",") if i.strip()))
        bad = [i for i in imdb_ids if not is_imdb_id(i)]
        if bad or not imdb_ids:
            raise click.BadParameter(
                f"not IMDb ids: {', '.join(bad) or repr(ids)}", param_hint="--ids"
            )
    else:
        with app.sessions() as session:
            imdb_ids = top_shows(session, top or 0)
        if not imdb_ids:
            raise click.ClickException(
                "no catalogue shows with IMDb votes: run `nextshow collect imdb-datasets` first"
            )
    settings = app.settings
    verbose = logging.getLogger().level <= logging.INFO
    config = CrawlConfig(
        imdb_ids=imdb_ids,
        base_url=base_url,
        job_dir=str(job_dir or settings.collect_dir / "reviews"),
        user_agent=settings.collect_user_agent,
        max_pages=max_pages or settings.collect_max_pages,
        polite=not no_politeness,
        download_delay=settings.collect_download_delay,
        retry_times=settings.collect_retry_times,
        retry_backoff=settings.collect_retry_backoff,
        max_retry_after=settings.collect_max_retry_after,
        cache_hours=settings.collect_cache_hours,
        timeout=settings.collect_timeout,
        log_level="INFO" if verbose else "WARNING",
    )
    try:
        result, summary = collect_reviews(
            app.sessions,
            config,
            like_threshold=settings.like_threshold,
            batch_size=settings.import_batch_size,
            progress=app.progress,
            reports_dir=settings.reports_dir,
        )
    except (CrawlError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    counts = result.summary()
    if as_json:
        click.echo(json.dumps({"crawl": counts, "import": summary.as_dict()}, indent=2))
        if summary.rejects:
            sys.exit(EXIT_REJECTS)
        return
    click.echo(
        f"{counts['shows']} shows, {counts['pages']} pages, {counts['reviews']} reviews: "
        f"{counts['ratings']} ratings, skipped {counts['skipped_no_rating']} without rating, "
        f"{counts['skipped_deleted_user']} by deleted users, "
        f"{counts['skipped_malformed']} malformed; {counts['retries']} retries, "
        f"{counts['robots_forbidden']} forbidden by robots.txt ({counts['finish_reason']})"
    )
    _report_import(summary, as_json=False)


def main() -> None:
    cli(prog_name="nextshow")


if __name__ == "__main__":
    main()
