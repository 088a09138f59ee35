"""Queue depth to CloudWatch (config.queue_metrics): the beat task counts the messages waiting
on each queue at the broker and puts them as `Practika/Celery` `QueueDepth` by `Queue`, read
back here through boto3 from moto's server (the real botocore client, the real HTTP API).

Brokers: kombu's in-memory transport (the test settings' broker) and, with `-m services`, the
machine's Redis with the production transport options. Nothing consumes the queues meanwhile.
"""

from __future__ import annotations

import os
import threading
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto.server import ThreadedMotoServer

from config import queue_metrics
from config.celery_app import app


@pytest.fixture(scope="module")
def moto_endpoint():
    # Port 0: the system picks a free one, so two test runs on one machine never share it.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def cloudwatch(moto_endpoint, settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.AWS_CLOUDWATCH_ENDPOINT_URL = moto_endpoint
    settings.PRACTIKA_QUEUE_METRICS_REGION = "eu-west-1"
    return boto3.client("cloudwatch", region_name="eu-west-1", endpoint_url=moto_endpoint)


def _published(cloudwatch, queue: str) -> list[float]:
    now = datetime.now(UTC)
    answer = cloudwatch.get_metric_statistics(
        Namespace="Practika/Celery",
        MetricName="QueueDepth",
        Dimensions=[{"Name": "Queue", "Value": queue}],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Maximum"],
    )
    return [point["Maximum"] for point in answer["Datapoints"]]


def _queue(names: dict[str, int]) -> None:
    for name, count in names.items():
        for _ in range(count):
            app.send_task("learning.process_media", args=[0], queue=name)


def _purge(names) -> None:
    with app.connection_for_write() as connection:
        for name in names:
            app.amqp.queues[name].bind(connection.default_channel).purge()


def _reset_app_connections() -> None:
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None
    app._local = threading.local()


def test_the_beat_task_publishes_each_queue_s_depth(cloudwatch, settings):
    # Given three messages waiting on one queue and none on another
    tag = uuid.uuid4().hex[:8]
    busy, idle = f"video-{tag}", f"default-{tag}"
    settings.PRACTIKA_QUEUE_METRICS_QUEUES = [busy, idle]
    _queue({busy: 3})
    try:
        # When the beat task runs
        depths = queue_metrics.queue_depth_publish.apply().get()
    finally:
        _purge([busy, idle])

    # Then CloudWatch holds the depth of each, zero included
    assert depths == {busy: 3, idle: 0}
    assert _published(cloudwatch, busy) == [3.0]
    assert _published(cloudwatch, idle) == [0.0]


def test_the_metric_names_are_the_ones_terraform_reads():
    # Terraform's side of this agreement is asserted in tests/infra/test_terraform.py.
    assert (queue_metrics.NAMESPACE, queue_metrics.METRIC, queue_metrics.DIMENSION) == (
        "Practika/Celery",
        "QueueDepth",
        "Queue",
    )


@pytest.mark.services
def test_queue_depth_from_redis_with_the_production_broker(cloudwatch, settings, monkeypatch):
    url = os.environ.get("REDIS_URL", "")
    assert url, "This test needs REDIS_URL."
    # The production queue names, under a key prefix of this test's own.
    prefix = f"queue-metrics-{uuid.uuid4().hex[:8]}:"
    monkeypatch.setitem(app.conf, "broker_url", url)
    monkeypatch.setitem(
        app.conf,
        "broker_transport_options",
        settings.REDIS_BROKER_TRANSPORT_OPTIONS | {"global_keyprefix": prefix},
    )
    _reset_app_connections()
    queues = ["billing", "default", "video"]
    settings.PRACTIKA_QUEUE_METRICS_QUEUES = queues
    try:
        _queue({"video": 4, "default": 1})
        # A message with a priority sits in another Redis list; it waits all the same.
        app.send_task("learning.process_media", args=[0], queue="video", priority=5)

        depths = queue_metrics.queue_depth_publish.apply().get()
    finally:
        _purge(queues)
        monkeypatch.undo()
        _reset_app_connections()
        import redis

        client = redis.Redis.from_url(url)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)

    assert depths == {"billing": 0, "default": 1, "video": 5}
    assert {queue: _published(cloudwatch, queue) for queue in queues} == {
        "billing": [0.0],
        "default": [1.0],
        "video": [5.0],
    }
