"""``hrviz serve``: the web page and its live WebSocket API, on one port."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hrviz.commands.common import (
    ConfigOpt,
    DbOpt,
    DeltaOpt,
    ExitStatus,
    HighOpt,
    KafkaOpt,
    LowOpt,
    MaxFillOpt,
    MysqlOpt,
    fail,
    friendly_errors,
)
from hrviz.core.ingest import IngestOptions, PublishReport
from hrviz.wiring import ENV_TOKEN, ingest_upload, load_settings, open_backends

if TYPE_CHECKING:
    from hrviz.adapters.serve.server import HrvizServer

HostOpt = Annotated[
    str, typer.Option(help="Address to listen on; anything but loopback requires a token (docs/deploy.md).")
]
TokenOpt = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar=ENV_TOKEN,
        help="Access token the page and clients must present.",
        show_default="none on loopback; generated and printed for any other --host",
    ),
]
CertOpt = Annotated[
    Path | None,
    typer.Option("--certfile", help="PEM certificate (chain): serve HTTPS / WSS.", show_default="none: plain HTTP"),
]
KeyOpt = Annotated[
    Path | None,
    typer.Option("--keyfile", help="PEM private key of --certfile.", show_default="none: inside --certfile"),
]


def serve(
    host: HostOpt = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0 picks a free one).")] = 8765,
    max_upload_mb: Annotated[float, typer.Option("--max-upload-mb", help="Largest file a page may upload.")] = 50.0,
    allow_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-origin",
            help="Also accept WebSocket handshakes from this origin (repeatable; moot with a token).",
            show_default="none: the page's own origins",
        ),
    ] = None,
    token: TokenOpt = None,
    certfile: CertOpt = None,
    keyfile: KeyOpt = None,
    delta: DeltaOpt = None,
    max_fill: MaxFillOpt = None,
    low: LowOpt = None,
    high: HighOpt = None,
    db: DbOpt = None,
    mysql: MysqlOpt = None,
    kafka: KafkaOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Serve the replay page: drop a CSV in the browser and watch it live, anomalies flagged."""
    from hrviz.adapters.serve.auth import check_token, is_loopback, new_token, tls_context
    from hrviz.adapters.serve.server import HrvizServer, ServerConfig

    if max_upload_mb <= 0:
        fail(f"--max-upload-mb must be positive, not {max_upload_mb}", ExitStatus.INPUT)
    if not 0 <= port <= 65535:
        fail(f"--port must be 0..65535, not {port}", ExitStatus.INPUT)
    for origin in allow_origin or []:
        if not origin.startswith(("http://", "https://")):
            fail(f"--allow-origin must look like http://host:port, not {origin!r}", ExitStatus.INPUT)
    if keyfile is not None and certfile is None:
        fail("--keyfile needs --certfile", ExitStatus.INPUT)
    tls = None
    try:
        if token is not None:
            token = check_token(token)
        if certfile is not None:
            tls = tls_context(certfile, keyfile)
    except ValueError as err:
        fail(str(err), ExitStatus.INPUT)
    generated = token is None and not is_loopback(host)
    if generated:
        token = new_token()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger("websockets").setLevel(logging.WARNING)
    with friendly_errors():
        settings = load_settings(
            db=db, mysql=mysql, kafka=kafka, config=config, delta=delta, max_fill=max_fill, low=low, high=high
        )
        cfg = ServerConfig(
            host=host,
            port=port,
            max_upload=int(max_upload_mb * 2**20),
            allow_origins=tuple(allow_origin or ()),
            token=token,
            tls=tls,
            ingest=IngestOptions(detector=settings.detector),
            web=settings.web_dir,
        )
        import asyncio  # here, not at the top: every other command would pay for it

        asyncio.run(_run(HrvizServer(cfg, lambda: open_backends(settings), ingest_upload), show_token=generated))


async def _run(server: HrvizServer, show_token: bool) -> None:
    import asyncio

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start(on_published=_report_outbox)
        for line in _banner(server, show_token):
            print(line, file=sys.stderr, flush=True)
        await stop.wait()
    finally:
        await server.stop()


def _banner(server: HrvizServer, show_token: bool) -> list[str]:
    """Where to point a browser. A generated token is printed here, once, and nowhere else."""
    import socket

    cfg = server.config
    scheme = "https" if cfg.tls is not None else "http"

    def url(host: str) -> str:
        return f"{scheme}://{f'[{host}]' if ':' in host else host}:{server.port}/"

    lines = [f"hrviz: serving {url(cfg.host)}  (Ctrl-C to stop)"]
    if cfg.token is None:
        return lines
    if not show_token:
        return [*lines, "hrviz: clients need the token given with --token / HRVIZ_TOKEN (open the page with ?token=…)"]
    hosts = [socket.gethostname(), "127.0.0.1"] if cfg.host in ("0.0.0.0", "::", "") else [cfg.host]
    lines.append("hrviz: open this address (it holds the access token: whoever has it sees every session):")
    lines += [f"    {url(h)}?token={cfg.token}" for h in hosts]
    return lines


def _report_outbox(report: PublishReport) -> None:
    if report.published:
        print(f"hrviz: published {len(report.published)} pending session(s)", file=sys.stderr)
    if report.failed:
        print(f"hrviz: warning: publishing pending sessions failed: {report.failed}", file=sys.stderr)
