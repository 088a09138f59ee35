"""Queue depth to CloudWatch: a beat task that publishes, every minute, how many messages wait
on each Celery queue, as the metric that ECS autoscaling and the alarms read
(infra/terraform/ecs.tf `worker_queue_depth`, monitoring.tf `queue_depth`): namespace
`Practika/Celery`, metric `QueueDepth`, dimension `Queue`, one value per queue, zero included
(scaling in needs the zeros, and a silent publisher is what the alarm catches).

The broker is asked through kombu, so the count is the broker's own: Redis's list lengths
(summed over priority lists), RabbitMQ's ready messages, the filesystem transport's files.
Messages a worker holds (running, or waiting for a retry's countdown) are not waiting.

This is the one module that talks to CloudWatch (boto3, pointed at `AWS_CLOUDWATCH_ENDPOINT_URL`
when set: moto's server in tests). The ECS task role may put metrics in this namespace only.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
"""

from __future__ import annotations

import logging

import boto3
from celery import shared_task
from django.conf import settings

NAMESPACE = "Practika/Celery"
METRIC = "QueueDepth"
DIMENSION = "Queue"

logger = logging.getLogger(__name__)


def queue_depths(app, queues: list[str]) -> dict[str, int]:
    """Messages waiting on each of `queues`, as the broker counts them (one connection)."""
    depths = {}
    with app.connection_for_read() as connection:
        channel = connection.default_channel
        for name in queues:
            # Declared as the workers declare it (celery's Queue, durable): declaring an
            # existing queue changes nothing, and a queue no one has used yet counts 0.
            queue = app.amqp.queues[name].bind(channel)
            _, count, _ = queue.queue_declare()
            depths[name] = count
    return depths


def cloudwatch_client():
    return boto3.client(
        "cloudwatch",
        region_name=settings.PRACTIKA_QUEUE_METRICS_REGION,
        endpoint_url=settings.AWS_CLOUDWATCH_ENDPOINT_URL or None,
    )


def queue_depths_publish(depths: dict[str, int], *, client=None) -> None:
    """Put one QueueDepth value per queue (a single PutMetricData call)."""
    (client or cloudwatch_client()).put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {
                "MetricName": METRIC,
                "Dimensions": [{"Name": DIMENSION, "Value": name}],
                "Value": float(count),
                "Unit": "Count",
            }
            for name, count in sorted(depths.items())
        ],
    )


# No retries: the next minute's run is the retry, and a stale depth is worse than none.
@shared_task(
    name="config.queue_depth_publish",
    bind=True,
    acks_late=True,
    soft_time_limit=30,
    time_limit=45,
    ignore_result=True,
)
def queue_depth_publish(self) -> dict[str, int]:
    """Publish the depth of every queue the tasks are routed to (beat, every minute)."""
    depths = queue_depths(self.app, settings.PRACTIKA_QUEUE_METRICS_QUEUES)
    queue_depths_publish(depths)
    logger.info("queue depths published", extra={"queue_depths": depths})
    return depths
