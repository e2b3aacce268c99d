# ruff: noqa: F811 — pytest fixtures imported from test_ws_api are parameters here
"""The ``insights`` and ``export`` messages (docs/api.md) on the embedded store and on MySQL +
Kafka (where the server's store is wrapped by the queue's staging): the figures of ``hrviz report``,
the HTML report, and the CSV in parts."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.integration.test_ws_api import (  # noqa: F401 — fixtures
    DEMO,
    client,
    make_server,
    recv,
    send,
    until,
    upload,
    uploaded_and_replaying,
)


@pytest.fixture(params=["embedded", pytest.param("mysql+kafka", marks=pytest.mark.kafka)])
def any_server(request: pytest.FixtureRequest, make_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    if request.param == "embedded":
        return make_server()
    from tests import services

    monkeypatch.setenv("HRVIZ_KAFKA_TOPIC", request.getfixturevalue("kafka_topic"))
    return make_server(mysql=request.getfixturevalue("mysql_url"), kafka=services.require("kafka"))


def test_insights_html_and_csv_parts(any_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import hrviz.adapters.serve.insights as serve_insights

    monkeypatch.setattr(serve_insights, "EXPORT_PART", 4096)  # several parts from the 520-reading demo
    with client(any_server) as ws:
        upload(ws, DEMO.read_bytes())
        session = uploaded_and_replaying(ws)
        sid = session["id"]
        send(ws, type="insights", session_id=sid)
        reply, _ = until(ws, "insights")
        ins = reply["insights"]
        assert reply["session_id"] == sid and "html" not in reply
        assert ins["id"] == sid and [z["zone"] for z in ins["zones"]] == [1, 2, 3, 4, 5]
        assert ins["max_bpm"] == session["stats"]["max"] and ins["quality"]["sentence"]
        send(ws, type="insights", session_id=sid, html=True)
        reply, _ = until(ws, "insights")
        assert reply["html"].startswith("<!doctype html>") and "<svg" in reply["html"]
        send(ws, type="export", session_id=sid)
        parts = []
        while True:
            msg, _ = until(ws, "export")
            parts.append(msg)
            if msg["last"]:
                break
        assert [p["part"] for p in parts] == list(range(len(parts))) and len(parts) >= 2
        rows = list(csv.DictReader(io.StringIO("".join(p["csv"] for p in parts))))
        assert len(rows) == 520 and [int(r["seq"]) for r in rows] == list(range(520))
        send(ws, type="insights", session_id="nosuchsession")
        err, _ = until(ws, "error")
        assert err["code"] == "unknown_session"
        send(ws, type="export", session_id="nosuchsession")
        err, _ = until(ws, "error")
        assert err["code"] == "unknown_session"
        assert recv(ws)  # the connection goes on
