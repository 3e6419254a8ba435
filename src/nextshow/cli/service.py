"""Service commands: the API (with its worker by default) and stand-alone queue workers."""

from __future__ import annotations

import contextlib
import errno
import socket

import click

from nextshow.cli.common import AppContext, long_running_logs, open_checked, pass_app
from nextshow.runtime import Runtime


def check_port_free(host: str, port: int) -> None:
    """Fail with a sentence (no traceback, exit 1) when ``host:port`` cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: SO_REUSEADDR, so a port in TIME_WAIT after a restart is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {port} is in use; set NEXTSHOW_PORT or --port"
                ) from exc
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


@click.command()
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

    from nextshow.service.app import create_app, release_waiters
    from nextshow.service.server import Server, uvicorn_options
    from nextshow.service.worker_process import WorkerSupervisor

    settings = app.settings
    if threads is not None:
        settings = settings.model_copy(update={"worker_threads": threads})
    host = host or settings.host
    port = settings.port if port is None else port
    check_port_free(host, port)  # before anything starts: a busy port fails at once
    runtime = open_checked(Runtime.from_settings(settings))  # refuse an old schema up front
    long_running_logs()
    supervisor = None
    if worker and worker_mode == "process":
        # Restarted when it dies; the count and the re-enqueue go through the shared queue.
        supervisor = WorkerSupervisor(
            threads,
            max_backoff=settings.worker_max_backoff_seconds,
            on_restart=runtime.queue.record_restart,
        )
        child = supervisor.start()
        click.echo(
            f"serve: queue worker process {child.pid} ({settings.worker_threads} worker threads)",
            err=True,
        )
    try:
        api = create_app(settings, run_worker=worker and worker_mode == "thread", runtime=runtime)
        config = uvicorn.Config(
            api,
            host=host,
            port=port,
            log_level="info",
            access_log=False,
            **uvicorn_options(settings),
        )
        server = Server(config, before_shutdown=lambda: release_waiters(api))
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it handled
            server.run()
        if not server.started:
            raise SystemExit(3)  # as uvicorn.run: the app or the socket failed at startup
    finally:
        if supervisor is not None:
            supervisor.stop()


@click.command()
@click.option("--threads", default=None, type=click.IntRange(1, 64), help="Worker threads.")
@pass_app
def worker(app: AppContext, threads: int | None) -> None:
    """Run queue workers only (the scale configuration: one or more per machine)."""
    from nextshow.service.holder import freeze_long_lived

    runtime = open_checked(Runtime.from_settings(app.settings))
    long_running_logs()
    runtime.holder  # noqa: B018 - load the model before taking tasks
    freeze_long_lived()
    queue = runtime.queue
    consumer = queue.huey.create_consumer(**queue.consumer_options(threads))
    click.echo(
        f"worker: {consumer.workers} threads on {app.settings.effective_queue_url}", err=True
    )
    consumer.run()


COMMANDS = (serve, worker)
