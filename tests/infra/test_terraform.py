"""The Terraform in infra/terraform: the resources production needs, configured safely."""

import re
import shutil
import subprocess

import pytest

from tests.support.terraform_config import TERRAFORM, load, source


@pytest.fixture(scope="module")
def tf():
    return load()


def _resource(tf, type_, name):
    assert (type_, name) in tf["resource"], f"missing resource {type_}.{name}"
    return tf["resource"][(type_, name)]


def _default(tf, reference):
    """The default of `${var.x}`, or the literal itself."""
    match = re.fullmatch(r"\$\{var\.(\w+)\}", str(reference))
    return tf["variable"][match.group(1)]["default"] if match else reference


# terraform is a tool of the project's machines, not a Python package: like PostgreSQL and
# Redis it is there for .ci/run, not on a newcomer's laptop.
@pytest.mark.services
def test_terraform_fmt_is_clean():
    terraform = shutil.which("terraform")
    assert terraform, "terraform must be installed (infra checks need `terraform fmt`)"
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", str(TERRAFORM)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_network_has_public_and_private_subnets(tf):
    _resource(tf, "aws_vpc", "main")
    assert _resource(tf, "aws_subnet", "public")["map_public_ip_on_launch"] is False
    _resource(tf, "aws_subnet", "private")
    # The database and Redis live in the private subnets.
    assert "private" in _resource(tf, "aws_db_subnet_group", "main")["subnet_ids"]
    assert "private" in _resource(tf, "aws_elasticache_subnet_group", "main")["subnet_ids"]


def test_load_balancer_has_a_wildcard_certificate_for_tenants_and_the_apex(tf):
    certificate = _resource(tf, "aws_acm_certificate", "app")
    assert certificate["domain_name"] == "${var.domain_name}"
    assert certificate["subject_alternative_names"] == ["*.${var.domain_name}"]
    https = _resource(tf, "aws_lb_listener", "https")
    assert https["protocol"] == "HTTPS"
    assert "TLS13" in https["ssl_policy"]
    http = _resource(tf, "aws_lb_listener", "http")
    assert http["default_action"][0]["type"] == "redirect"
    assert _resource(tf, "aws_lb", "main")["drop_invalid_header_fields"] is True
    assert _resource(tf, "aws_lb_target_group", "web")["health_check"][0]["path"] == "/readyz"
    assert _resource(tf, "aws_route53_record", "tenants")["name"] == "*.${var.domain_name}"


def test_websockets_go_to_their_own_container_by_path(tf):
    ws = _resource(tf, "aws_lb_target_group", "ws")
    assert ws["port"] == 8001
    assert ws["health_check"][0]["path"] == "/readyz"
    rule = _resource(tf, "aws_lb_listener_rule", "websockets")
    assert rule["listener_arn"] == "${aws_lb_listener.https.arn}"
    assert rule["action"][0]["target_group_arn"] == "${aws_lb_target_group.ws.arn}"
    assert rule["condition"][0]["path_pattern"][0]["values"] == ["/ws/*"]
    service = _resource(tf, "aws_ecs_service", "web")
    targets = {
        (b["target_group_arn"], b["container_name"], b["container_port"])
        for b in service["load_balancer"]
    }
    assert targets == {
        ("${aws_lb_target_group.web.arn}", "web", 8000),
        ("${aws_lb_target_group.ws.arn}", "ws", 8001),
    }
    ecs = source()
    assert re.search(r'name\s*=\s*"ws"\s*\n\s*command\s*=\s*\["ws"\]', ecs)
    assert "127.0.0.1:8001/healthz" in ecs
    security = _resource(tf, "aws_security_group", "app")["ingress"][0]
    assert (security["from_port"], security["to_port"]) == (8000, 8001)


def test_ecs_runs_web_worker_and_beat_on_fargate_with_autoscaling(tf):
    web = _resource(tf, "aws_ecs_service", "web")
    assert web["launch_type"] == "FARGATE"
    worker = _resource(tf, "aws_ecs_service", "worker")
    assert "FARGATE" in worker["capacity_provider_strategy"][0]["capacity_provider"]
    beat = _resource(tf, "aws_ecs_service", "beat")
    assert beat["desired_count"] == 1
    assert beat["deployment_maximum_percent"] == 100, "never two schedulers at once"
    for role in ("web", "worker", "beat"):
        definition = _resource(tf, "aws_ecs_task_definition", role)
        assert definition["requires_compatibilities"] == ["FARGATE"]
        assert f'command = ["{role}"]' in definition["container_definitions"]
    policies = {
        name: body
        for (type_, name), body in tf["resource"].items()
        if type_ == "aws_appautoscaling_policy"
    }
    cpu = policies["web_cpu"]["target_tracking_scaling_policy_configuration"][0]
    assert cpu["predefined_metric_specification"][0]["predefined_metric_type"] == (
        "ECSServiceAverageCPUUtilization"
    )
    assert "worker_cpu" in policies
    backlog = str(policies["worker_queue_depth"])
    assert "QueueDepth" in backlog and "RunningTaskCount" in backlog


def test_the_app_believes_x_forwarded_for_only_from_inside_the_vpc(tf):
    environment = {item["name"]: item["value"] for item in tf["locals"]["app_environment"]}

    assert environment["PRACTIKA_TRUSTED_PROXIES"] == "${var.vpc_cidr}"
    assert _resource(tf, "aws_lb", "main")["xff_header_processing_mode"] == "append"


def test_database_is_private_encrypted_backed_up_and_protected(tf):
    db = _resource(tf, "aws_db_instance", "main")
    assert db["engine"] == "postgres"
    assert db["storage_encrypted"] is True
    assert db["kms_key_id"]
    assert db["publicly_accessible"] is False
    assert _default(tf, db["backup_retention_period"]) >= 7
    assert _default(tf, db["deletion_protection"]) is True
    assert db["skip_final_snapshot"] is False
    parameters = _resource(tf, "aws_db_parameter_group", "main")["parameter"]
    assert {"name": "rds.force_ssl", "value": "1"} in parameters


def test_redis_is_encrypted_in_transit_and_at_rest(tf):
    redis = _resource(tf, "aws_elasticache_replication_group", "main")
    assert redis["at_rest_encryption_enabled"] is True
    assert redis["transit_encryption_enabled"] is True
    assert redis["auth_token"]


def test_media_bucket_is_private_encrypted_versioned_with_lifecycle_and_cors(tf):
    block = _resource(tf, "aws_s3_bucket_public_access_block", "media")
    for setting in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert block[setting] is True, setting
    encryption = _resource(tf, "aws_s3_bucket_server_side_encryption_configuration", "media")
    default = encryption["rule"][0]["apply_server_side_encryption_by_default"][0]
    assert default["sse_algorithm"] == "aws:kms"
    versioning = _resource(tf, "aws_s3_bucket_versioning", "media")
    assert versioning["versioning_configuration"][0]["status"] == "Enabled"
    rules = _resource(tf, "aws_s3_bucket_lifecycle_configuration", "media")["rule"]
    assert any("abort_incomplete_multipart_upload" in rule for rule in rules)
    assert any("noncurrent_version_expiration" in rule for rule in rules)
    cors = _resource(tf, "aws_s3_bucket_cors_configuration", "media")["cors_rule"][0]
    assert "PUT" in cors["allowed_methods"]
    assert "https://*.${var.domain_name}" in cors["allowed_origins"]
    ownership = _resource(tf, "aws_s3_bucket_ownership_controls", "media")
    assert ownership["rule"][0]["object_ownership"] == "BucketOwnerEnforced"
    assert "aws:SecureTransport" in str(tf["data"][("aws_iam_policy_document", "media_bucket")])


def test_cdn_ses_secrets_logs_and_alarms_exist(tf):
    cdn = _resource(tf, "aws_cloudfront_distribution", "cdn")
    assert {origin["origin_id"] for origin in cdn["origin"]} == {"media", "static"}
    assert cdn["default_cache_behavior"][0]["trusted_key_groups"], "media needs signed URLs"
    assert cdn["viewer_certificate"][0]["minimum_protocol_version"].startswith("TLSv1.2")
    _resource(tf, "aws_ses_domain_identity", "main")
    _resource(tf, "aws_ses_domain_dkim", "main")
    assert _resource(tf, "aws_secretsmanager_secret", "app")["kms_key_id"]
    assert _resource(tf, "aws_cloudwatch_log_group", "app")["retention_in_days"]
    assert _resource(tf, "aws_kms_key", "main")["enable_key_rotation"] is True
    alarms = {name for (type_, name) in tf["resource"] if type_ == "aws_cloudwatch_metric_alarm"}
    assert {"http_5xx_rate", "queue_depth", "db_cpu", "db_free_storage"} <= alarms


def test_every_size_is_a_variable_with_a_description(tf):
    for name, variable in tf["variable"].items():
        assert variable.get("description"), name
        assert variable.get("type"), name
    sized = {
        ("aws_db_instance", "main"): ["instance_class", "allocated_storage", "multi_az"],
        ("aws_elasticache_replication_group", "main"): ["node_type"],
        ("aws_ecs_task_definition", "web"): ["cpu", "memory"],
        ("aws_ecs_task_definition", "beat"): ["cpu", "memory"],
        ("aws_ecs_task_definition", "worker"): ["cpu", "memory"],
    }
    for key, attributes in sized.items():
        for attribute in attributes:
            value = str(tf["resource"][key][attribute])
            assert value.startswith(("${var.", "${each.value")), (key, attribute, value)


def test_outputs_give_the_app_what_it_needs(tf):
    assert {
        "media_bucket",
        "ecr_repository_url",
        "app_secret_arn",
        "database_endpoint",
        "redis_endpoint",
        "cdn_domain",
        "ecs_cluster_name",
        "migrate_task_definition",
        "cloudfront_key_id",
        "cloudfront_key_secret_arn",
        "ses_events_topic_arn",
    } <= set(tf["output"])


def test_every_checkov_exception_is_justified_in_code():
    skips = re.findall(r"#checkov:skip=([^\n]*)", source())
    assert skips
    for skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+:.{20,}", skip), skip


def _statements(policy: str) -> dict[str, str]:
    """{action: resources} of a jsonencode'd policy, as the HCL source writes them."""
    found = {}
    for actions, resources in re.findall(r"Action = \[([^\]]*)\], Resource = \[([^\]]*)\]", policy):
        for action in re.findall(r'"([^"]+)"', actions):
            found[action] = resources
    return found


def test_media_plays_through_the_cdn_with_signed_urls(tf):
    environment = {item["name"]: item["value"] for item in tf["locals"]["app_environment"]}
    assert environment["PRACTIKA_MEDIA_CDN_DOMAIN"] == "${local.cdn_domain}"
    assert environment["AWS_CLOUDFRONT_KEY_ID"] == "${aws_cloudfront_public_key.media.id}"
    # The private key: the whole cloudfront-key secret (a PEM), injected by ECS, never in state.
    secrets = tf["locals"]["app_secrets"]
    assert re.search(
        r'name = "AWS_CLOUDFRONT_KEY", valueFrom = aws_secretsmanager_secret\.cloudfront_key\.arn',
        secrets,
    ), secrets
    assert "cloudfront_key.arn" in str(_resource(tf, "aws_iam_role_policy", "execution_secrets"))
    # The distribution trusts exactly the key group holding that public key.
    group = _resource(tf, "aws_cloudfront_key_group", "media")
    assert group["items"] == ["${aws_cloudfront_public_key.media.id}"]
    assert _resource(tf, "aws_cloudfront_public_key", "media")["encoded_key"] == (
        "${var.cloudfront_public_key_pem}"
    )
    cdn = _resource(tf, "aws_cloudfront_distribution", "cdn")
    media = cdn["default_cache_behavior"][0]
    assert media["target_origin_id"] == "media"
    assert media["trusted_key_groups"] == ["${aws_cloudfront_key_group.media.id}"]
    assert media["viewer_protocol_policy"] == "https-only"
    origin = next(o for o in cdn["origin"] if o["origin_id"] == "media")
    assert origin["origin_access_control_id"] == (
        "${aws_cloudfront_origin_access_control.media.id}"
    )
    control = _resource(tf, "aws_cloudfront_origin_access_control", "media")
    assert (control["signing_behavior"], control["signing_protocol"]) == ("always", "sigv4")
    # The bucket lets this distribution read, and the KMS key lets CloudFront decrypt: the
    # key policy's ARN is a pattern, which only StringLike matches.
    bucket = tf["data"][("aws_iam_policy_document", "media_bucket")]["statement"]
    reads = next(s for s in bucket if s.get("sid") == "CloudFrontReadsMedia")
    assert reads["condition"][0]["values"] == ["${aws_cloudfront_distribution.cdn.arn}"]
    kms = tf["data"][("aws_iam_policy_document", "kms")]["statement"]
    decrypts = next(s for s in kms if s.get("sid") == "CloudFrontReadsMedia")
    condition = decrypts["condition"][0]
    assert "*" in condition["values"][0] and condition["test"] == "StringLike"


def test_no_360p_rendition_is_referred_to():
    assert "360p" not in source()


def test_email_is_sent_by_the_task_role_with_no_smtp_user(tf):
    types = {type_ for (type_, _) in tf["resource"]}
    assert "aws_iam_user" not in types and "aws_iam_access_key" not in types
    assert "EMAIL_HOST_PASSWORD" not in source() and "EMAIL_HOST_USER" not in source()
    task = _statements(_resource(tf, "aws_iam_role_policy", "task")["policy"])
    assert task["ses:SendEmail"] == task["ses:SendRawEmail"] == "aws_ses_domain_identity.main.arn"
    assert task["sns:ConfirmSubscription"] == "aws_sns_topic.ses_events.arn"
    environment = {item["name"]: item["value"] for item in tf["locals"]["app_environment"]}
    assert environment["AWS_SES_REGION_NAME"] == "${var.region}"
    assert environment["PRACTIKA_SES_EVENTS_TOPIC_ARNS"] == "${aws_sns_topic.ses_events.arn}"
    assert "EMAIL_HOST" not in environment


def test_bounces_and_complaints_reach_the_webhook_over_https(tf):
    notifications = _resource(tf, "aws_ses_identity_notification_topic", "events")
    assert set(re.findall(r'"(\w+)"', notifications["for_each"])) == {"Bounce", "Complaint"}
    assert notifications["topic_arn"] == "${aws_sns_topic.ses_events.arn}"
    topic = _resource(tf, "aws_sns_topic", "ses_events")
    assert topic["kms_master_key_id"]
    publish = tf["data"][("aws_iam_policy_document", "ses_events")]["statement"][0]
    assert publish["actions"] == ["sns:Publish"]
    assert publish["principals"][0]["identifiers"] == ["ses.amazonaws.com"]
    assert {c["variable"] for c in publish["condition"]} == {"AWS:SourceAccount", "AWS:SourceArn"}
    kms = tf["data"][("aws_iam_policy_document", "kms")]["statement"]
    assert any(s["principals"][0]["identifiers"] == ["ses.amazonaws.com"] for s in kms)

    subscription = _resource(tf, "aws_sns_topic_subscription", "ses_events_webhook")
    assert subscription["protocol"] == "https"
    assert subscription["raw_message_delivery"] is False  # anymail reads the SNS envelope
    assert subscription["endpoint"] == (
        "https://${local.ses_webhook_secret}@${var.domain_name}${local.ses_webhook_path}"
    )
    # The path is the public site's webhook route; the credentials are the app's.
    from django.urls import reverse

    path = reverse("tenants:ses_tracking_webhook", urlconf="config.urls_public")
    assert tf["locals"]["ses_webhook_path"] == path
    assert "ANYMAIL_WEBHOOK_SECRET = local.ses_webhook_secret" in str(
        _resource(tf, "aws_secretsmanager_secret_version", "app")["secret_string"]
    )
    assert "ANYMAIL_WEBHOOK_SECRET" in tf["locals"]["app_secrets"]


def test_the_queue_depth_that_autoscaling_and_alarms_read_is_the_one_the_app_publishes(tf):
    # config.queue_metrics puts namespace/metric/dimension for every queue tasks are routed to
    # (settings.PRACTIKA_QUEUE_METRICS_QUEUES); Terraform must read exactly those.
    from django.conf import settings

    from config import queue_metrics

    published = set(settings.PRACTIKA_QUEUE_METRICS_QUEUES)
    alarm = _resource(tf, "aws_cloudwatch_metric_alarm", "queue_depth")
    assert (alarm["namespace"], alarm["metric_name"]) == (
        queue_metrics.NAMESPACE,
        queue_metrics.METRIC,
    )
    assert alarm["dimensions"] == {queue_metrics.DIMENSION: "${each.key}"}
    assert set(re.findall(r'"(\w+)"', alarm["for_each"])) == published
    assert alarm["treat_missing_data"] == "breaching", "a silent publisher must alarm"
    # Every worker service scales on queues the app publishes, and together they take all.
    workers = _default(tf, "${var.workers}")
    consumed = {queue for worker in workers.values() for queue in worker["queues"].split(",")}
    assert consumed == published
    backlog = str(_resource(tf, "aws_appautoscaling_policy", "worker_queue_depth"))
    for name in (queue_metrics.NAMESPACE, queue_metrics.METRIC, queue_metrics.DIMENSION):
        assert name in backlog
    # The task role may put metrics in that namespace (and only there).
    policy = str(_resource(tf, "aws_iam_role_policy", "task")["policy"])
    assert f'"cloudwatch:namespace" = "{queue_metrics.NAMESPACE}"' in policy
    # Beat in production queues the publisher every minute.
    assert "config.queue_depth_publish" in str(settings.QUEUE_METRICS_BEAT_SCHEDULE)
