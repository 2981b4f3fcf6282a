"""`grader serve`: N web processes that only take requests, and (embedded queue) one grading process.

Each web process listens on its own socket bound to the same port with SO_REUSEPORT, and the kernel spreads new
connections over them. With one shared socket, as `uvicorn --workers` has, whichever process wakes first accepts a
whole burst of uploads and the others stay idle.

Every `grader` call loads this module (grader/entrypoints/cli.py): the web app, the database and the grading process
are imported where they start."""

from __future__ import annotations

import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

import typer

from grader.settings import Settings
from grader.stopping import StopSignal

log = logging.getLogger(__name__)
SPAWN = multiprocessing.get_context("spawn")
PR_SET_PDEATHSIG = 1
STARTUP_GRACE_S = 10.0  # a process that dies sooner after its start would only die again: stop instead


class ServeError(Exception):
    pass


@dataclass(frozen=True)
class Listen:
    host: str
    port: int


def check_port_free(listen: Listen) -> None:
    """SO_REUSEPORT would let the web processes share the port with a stray server of the same user: refuse first."""
    with socket.socket(_family(listen.host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((listen.host, listen.port))
        except OSError as error:
            raise ServeError(
                f"cannot listen on {listen.host}:{listen.port}: {error.strerror}; "
                "stop what uses it or choose another --port"
            ) from error


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def run_web_process(listen: Listen) -> None:
    import uvicorn

    sock = socket.socket(_family(listen.host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((listen.host, listen.port))
    config = uvicorn.Config("grader.web.app:create_served_app", factory=True, proxy_headers=True)
    config.load()
    # Everything loaded so far lives as long as the process: out of the collector's sight, a full collection during an
    # upload burst no longer walks the framework's hundreds of thousands of objects.
    gc.freeze()
    uvicorn.Server(config).run(sockets=[sock])


def _run_child(parent_pid: int, target: Callable[..., None], args: tuple) -> None:
    """A child of `grader serve` ends with it, even when the parent is killed outright (SIGKILL runs no cleanup):
    Linux sends the child SIGTERM when its parent dies, which each child handles as a normal stop."""
    libc = ctypes.CDLL(None, use_errno=True)
    if hasattr(libc, "prctl"):
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:  # the parent died before the line above: nothing would send the signal
        return
    target(*args)


@dataclass
class Child:
    name: str
    target: Callable[..., None]
    args: tuple
    process: BaseProcess | None = None
    started_at: float = 0.0

    def start(self) -> None:
        self.process = SPAWN.Process(target=_run_child, args=(os.getpid(), self.target, self.args), name=self.name)
        self.process.start()
        self.started_at = time.monotonic()


def run_server(settings: Settings, listen: Listen, processes: int) -> None:
    """Start every process, restart one that dies, stop them all on SIGTERM or SIGINT (grading finishes its jobs)."""
    check_port_free(listen)
    children = [Child(f"grader-web-{n}", run_web_process, (listen,)) for n in range(processes)]
    if settings.queue == "inprocess":
        from grader.queue.inprocess import grade_until_stopped

        children.append(Child("grader-grading", grade_until_stopped, (settings,)))
    stopping = StopSignal()
    for child in children:
        child.start()
    try:
        while not stopping.wait(0.5):
            for child in children:
                if child.process.is_alive():
                    continue
                if time.monotonic() - child.started_at < STARTUP_GRACE_S:
                    raise ServeError(
                        f"{child.name} exited during startup (code {child.process.exitcode}); see its error above"
                    )
                log.warning("%s exited (code %s); starting it again", child.name, child.process.exitcode)
                child.start()
    finally:
        for child in children:
            if child.process.is_alive():
                child.process.terminate()
        for child in children:
            child.process.join()


def serve(
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(8000, help="TCP port"),
    processes: int = typer.Option(0, min=0, help="web server processes (default: one per core)"),
) -> None:
    """Run the web app (pages, JSON API at /api, docs at /api/docs) with its grading workers."""
    from grader.db.migrations import upgrade_to_head

    settings = Settings()
    upgrade_to_head(settings.effective_database_url)  # once, before several processes open the database
    processes = processes or os.cpu_count() or 1
    grading = (
        f"one grading process with {settings.workers or os.cpu_count()} sandboxes"
        if settings.queue == "inprocess"
        else "grading by Celery workers"
    )
    typer.echo(f"grader serve: http://{host}:{port} ({processes} web processes, {grading}); Ctrl-C stops")
    try:
        run_server(settings, Listen(host, port), processes)
    except ServeError as error:
        typer.echo(f"grader serve: {error}", err=True)
        raise typer.Exit(1) from error
