"""Model commands: evaluate, snapshot, train, list, promote, roll back, retrain, schedule."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from nextshow.cli.common import (
    EXIT_REFUSED,
    AppContext,
    echo_json,
    echo_table,
    folder_option,
    json_option,
    open_checked,
    pass_app,
    plain,
    shown_option,
)
from nextshow.ratings.records import FORMATS as RATING_FORMATS
from nextshow.runtime import Runtime


@click.command("evaluate")
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
@shown_option(
    "--min-likes",
    default=5,
    type=click.IntRange(min=2),
    help="Users with at least this many likes are test users.",
)
@click.option("--no-tune", is_flag=True, help="Default parameters: skip the validation search.")
@click.option(
    "--split",
    "split_rule",
    type=click.Choice(["user-time", "global-time", "held-out-shows"]),
    default="user-time",
    show_default=True,
    help="user-time: each user's last 20 % (the original heuristic); global-time: one cut-off "
    "time for everyone, so no model sees likes from after the held-out ones; held-out-shows: "
    "cold start, every like of a seeded 10 % of the shows is held out.",
)
@folder_option("--out", "Report folder (default: <home>/reports/evaluation-<timestamp>).")
@json_option()
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
    from nextshow.evaluation.evaluate import parse_model_names
    from nextshow.evaluation.protocol import run_evaluation
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
    paths = write_report(result, out or default_out_dir(app.settings.reports_dir))
    if as_json:
        echo_json({**result.as_dict(), "report": {kind: str(p) for kind, p in paths.items()}})
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


@click.command()
@json_option("Print the manifest as JSON.")
@pass_app
def snapshot(app: AppContext, as_json: bool) -> None:
    """Freeze shows and ratings into an immutable, content-addressed Parquet snapshot."""
    from nextshow.pipeline.snapshots import take_snapshot

    with app.sessions() as session, session.begin():
        manifest, created = take_snapshot(session, app.artifacts, app.settings)
    if as_json:
        click.echo(manifest.to_json())
        return
    state = "new" if created else "unchanged data, existing"
    click.echo(
        f"snapshot {manifest.id} ({state}): {manifest.rows} ratings, {manifest.users} users, "
        f"{manifest.shows} shows, {manifest.likes} likes"
    )


@click.command()
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
@shown_option(
    "--engine",
    type=click.Choice(["numpy", "spark"]),  # pipeline.train.ENGINES; --help imports no numpy
    default="numpy",
    help="Train in this process, or on Apache Spark (NEXTSHOW_SPARK_MASTER, or spark-submit).",
)
@click.option("--promote", "then_promote", is_flag=True, help="Promote through the gate after.")
@json_option()
@pass_app
def train(
    app: AppContext,
    snapshot_id: str,
    model: str | None,
    params: tuple[str, ...],
    no_tune: bool,
    engine: str,
    then_promote: bool,
    as_json: bool,
) -> None:
    """Train a model from a snapshot, evaluate it and register it as a candidate version."""
    from nextshow.pipeline.snapshots import resolve_snapshot
    from nextshow.pipeline.train import TrainOptions, train_version
    from nextshow.recommenders import kinds

    name = model or app.settings.default_model
    if name not in kinds.names():
        raise click.BadParameter(
            f"unknown model {name!r}; known: {', '.join(kinds.names())}", param_hint="--model"
        )
    try:
        options = TrainOptions(
            model=name, params=_parse_params(params), tune=not no_tune, engine=engine
        )
    except ValueError as exc:  # a model the Spark engine does not train
        raise click.BadParameter(str(exc), param_hint="--model") from exc
    snapshot_id = resolve_snapshot(app.sessions, app.artifacts, app.settings, snapshot_id)
    try:
        result = train_version(
            app.sessions,
            app.artifacts,
            snapshot_id=snapshot_id,
            options=options,
            progress=app.progress,
            settings=app.settings,
        )
    except ValueError as exc:  # bad params, empty snapshot: the user's input, not a crash
        raise click.ClickException(str(exc)) from exc
    if as_json:
        echo_json(result.__dict__)
    else:
        ndcg = result.metrics.get("ndcg@10", float("nan"))
        click.echo(
            f"version {result.version_id}: {result.model} ({plain(result.params)}) "
            f"[{result.engine}] on snapshot "
            f"{result.snapshot_id}: ndcg@10 {ndcg:.4f}, fit {result.fit_seconds:.2f} s, "
            f"{result.artifact_bytes / 1e6:.1f} MB, total {result.wall_seconds:.1f} s"
        )
    if then_promote:
        app.ctx.invoke(promote_cmd, version=result.version_id)


@click.command("models")
@json_option()
@click.option("--events", is_flag=True, help="Show the promotion history too.")
@pass_app
def models_cmd(app: AppContext, as_json: bool, events: bool) -> None:
    """List model versions with stage and metrics."""
    from nextshow.registry.versions import list_events, list_versions
    from nextshow.schemas.models import ModelEventPublic, ModelVersionPublic

    with app.sessions() as session:  # the same bodies as the API's and the pages'
        rows = [
            ModelVersionPublic.model_validate(v).model_dump(mode="json")
            for v in list_versions(session)
        ]
        history = [
            ModelEventPublic.model_validate(e).model_dump(mode="json") for e in list_events(session)
        ]
    if as_json:
        echo_json({"versions": rows, "events": history})
        return
    if not rows:
        click.echo("no model versions yet: run `nextshow train`")
    else:
        echo_table(
            ["version", "stage", "model", "ndcg@10", "p@10", "snapshot", "created (UTC)"],
            [
                [
                    row["version"],
                    row["stage"],
                    row["model"],
                    row["metrics"].get("ndcg@10"),
                    row["metrics"].get("precision@10"),
                    row["snapshot"],
                    row["created_at"][:19].replace("T", " "),
                ]
                for row in rows
            ],
        )
    if events and history:
        click.echo()
        echo_table(
            ["at (UTC)", "action", "version", "from", "forced", "reason"],
            [
                [
                    e["at"][:19].replace("T", " "),
                    e["action"],
                    e["version"],
                    e["previous_production"] or "",
                    "FORCED" if e["forced"] else "",
                    e["reason"] or "",
                ]
                for e in history
            ],
        )


@click.command("promote")
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
    from nextshow.pipeline.promotion import gate_options, promote_with_gate
    from nextshow.registry.versions import GateRefused, RegistryError

    try:
        decision = promote_with_gate(
            app.sessions,
            app.artifacts,
            version_id=version,
            force=force,
            reason=reason,
            **gate_options(app.settings, tolerance),
        )
    except GateRefused as refused:
        click.echo(f"refused: {refused}", err=True)
        click.echo("use --force --reason '...' to promote anyway", err=True)
        sys.exit(EXIT_REFUSED)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc
    forced = " (forced)" if force and not decision.passed else ""
    click.echo(f"version {version} is now in production{forced}: {decision.explain()}")


@click.command()
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


@click.command()
@click.option(
    "--if-needed",
    is_flag=True,
    help="Only when NEXTSHOW_RETRAIN_MIN_NEW_LIKES likes arrived since production.",
)
@json_option()
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
        echo_json(
            {
                "ran": outcome.ran,
                "promoted": outcome.promoted,
                "reason": outcome.reason,
                "new_likes": outcome.new_likes,
                "version": outcome.train.version_id if outcome.train else None,
            }
        )
    else:
        version = f"version {outcome.train.version_id}: " if outcome.train else ""
        click.echo(
            f"{version}{'promoted' if outcome.promoted else 'not promoted'}: {outcome.reason}"
        )


@click.command()
@shown_option(
    "--poll", default=60.0, type=click.FloatRange(min=0.1), help="Seconds between checks."
)
@click.option("--once", is_flag=True, help="Check the triggers once and exit.")
@pass_app
def scheduler(app: AppContext, poll: float, once: bool) -> None:
    """Run the automatic retrain triggers (schedule and new likes) until interrupted."""
    from nextshow.pipeline.triggers import run_scheduler

    settings = app.settings
    runtime = open_checked(Runtime.from_settings(settings))  # long-running: never migrates
    click.echo(
        f"scheduler: every {settings.retrain_interval_hours or 'off'} h, "
        f"after {settings.retrain_min_new_likes or 'off'} new likes; checking every {poll} s"
    )
    try:
        outcomes = run_scheduler(
            runtime.sessions,
            runtime.artifacts,
            settings,
            poll_seconds=poll,
            max_checks=1 if once else None,
        )
    except KeyboardInterrupt:
        return
    for outcome in outcomes:
        click.echo(f"{outcome.trigger}: {'ran' if outcome.ran else 'skipped'}: {outcome.reason}")


COMMANDS = (evaluate_cmd, snapshot, train, models_cmd, promote_cmd, rollback, retrain, scheduler)
