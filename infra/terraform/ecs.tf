resource "aws_ecr_repository" "app" {
  name                 = var.project
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.main.arn
  }
}

resource "aws_ecr_lifecycle_policy" "app" {
  repository = aws_ecr_repository.app.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the last 20 images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 20 }
      action       = { type = "expire" }
    }]
  })
}

resource "aws_ecs_cluster" "main" {
  name = local.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_cluster_capacity_providers" "main" {
  cluster_name       = aws_ecs_cluster.main.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]
}

resource "aws_cloudwatch_log_group" "app" {
  for_each          = toset(concat(["web", "beat", "migrate"], [for name in keys(var.workers) : "worker-${name}"]))
  name              = "/ecs/${local.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

locals {
  image = "${aws_ecr_repository.app.repository_url}:${var.image_tag}"

  # The same names as compose.yaml; tests/infra checks that the app reads every one of them.
  app_environment = [
    { name = "DJANGO_SETTINGS_MODULE", value = "config.settings.production" },
    { name = "PRACTIKA_BASE_DOMAIN", value = var.domain_name },
    { name = "AWS_STORAGE_BUCKET_NAME", value = aws_s3_bucket.media.bucket },
    { name = "AWS_S3_REGION_NAME", value = var.region },
    { name = "PRACTIKA_STATIC_URL", value = "https://${local.cdn_domain}/static/" },
    { name = "PRACTIKA_STATIC_ORIGIN", value = "https://${local.cdn_domain}" },
    # Playback through the CDN: signed CloudFront URLs (learning.storage); the private key is a
    # secret below, the public key's id names the key in the distribution's trusted key group.
    { name = "PRACTIKA_MEDIA_CDN_DOMAIN", value = local.cdn_domain },
    { name = "AWS_CLOUDFRONT_KEY_ID", value = aws_cloudfront_public_key.media.id },
    # Email through the SES API with the task role (ses.tf); bounces and complaints arrive
    # from this topic only, signed by SNS in this region.
    { name = "AWS_SES_REGION_NAME", value = var.region },
    { name = "PRACTIKA_SES_EVENTS_TOPIC_ARNS", value = aws_sns_topic.ses_events.arn },
    { name = "DEFAULT_FROM_EMAIL", value = "Practika <hello@${var.domain_name}>" },
    { name = "DJANGO_LOG_LEVEL", value = "INFO" },
    # The load balancer reaches the tasks from inside the VPC: only its X-Forwarded-For entries
    # are believed, so the client's address (rate limits) cannot be chosen by the client.
    { name = "PRACTIKA_TRUSTED_PROXIES", value = var.vpc_cidr },
  ]

  app_secrets = concat(
    [
      for key in ["DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ANYMAIL_WEBHOOK_SECRET"] :
      { name = key, valueFrom = "${aws_secretsmanager_secret.app.arn}:${key}::" }
    ],
    [{ name = "AWS_CLOUDFRONT_KEY", valueFrom = aws_secretsmanager_secret.cloudfront_key.arn }],
  )

  # The root filesystem is read-only; /tmp (uploads being transcoded, beat's schedule) is not.
  container_base = {
    image                  = local.image
    essential              = true
    readonlyRootFilesystem = true
    secrets                = local.app_secrets
    mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
    linuxParameters        = { initProcessEnabled = true }
  }

  task_network = {
    subnets          = var.enable_nat_gateway ? aws_subnet.private[*].id : aws_subnet.public[*].id
    assign_public_ip = !var.enable_nat_gateway
  }
}

# --- IAM --------------------------------------------------------------------------------------

data "aws_iam_policy_document" "ecs_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# Used by ECS itself: pull the image, write logs, read the secrets into the environment.
resource "aws_iam_role" "execution" {
  name               = "${local.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role_policy" "execution_secrets" {
  name = "read-secrets"
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = [aws_secretsmanager_secret.app.arn, aws_secretsmanager_secret.cloudfront_key.arn]
      },
      {
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [aws_kms_key.main.arn]
      },
    ]
  })
}

# Used by the app: media objects in its bucket, its own queue-depth metric, sending email from
# its SES identity, and confirming the SES-events subscription (anymail's auto-confirm).
resource "aws_iam_role" "task" {
  name               = "${local.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
}

resource "aws_iam_role_policy" "task" {
  name = "app"
  role = aws_iam_role.task.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
        Resource = ["${aws_s3_bucket.media.arn}/*"]
      },
      {
        Effect   = "Allow"
        Action   = ["s3:ListBucket"]
        Resource = [aws_s3_bucket.media.arn]
      },
      {
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [aws_kms_key.main.arn]
      },
      {
        Effect   = "Allow"
        Action   = ["ses:SendEmail", "ses:SendRawEmail"]
        Resource = [aws_ses_domain_identity.main.arn]
      },
      {
        Effect   = "Allow"
        Action   = ["sns:ConfirmSubscription"]
        Resource = [aws_sns_topic.ses_events.arn]
      },
      {
        Effect    = "Allow"
        Action    = ["cloudwatch:PutMetricData"]
        Resource  = ["*"]
        Condition = { StringEquals = { "cloudwatch:namespace" = "Practika/Celery" } }
      },
    ]
  })
}

# --- Task definitions -------------------------------------------------------------------------

resource "aws_ecs_task_definition" "web" {
  family                   = "${local.name}-web"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.web_cpu
  memory                   = var.web_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([merge(local.container_base, {
    name         = "web"
    command      = ["web"]
    portMappings = [{ containerPort = 8000, protocol = "tcp" }]
    environment  = concat(local.app_environment, [{ name = "WEB_CONCURRENCY", value = tostring(var.web_concurrency) }])
    healthCheck = {
      command     = ["CMD", "python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 30
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.app["web"].name
        awslogs-region        = var.region
        awslogs-stream-prefix = "web"
      }
    }
    }), merge(local.container_base, {
    # The websockets (/ws/*, the ALB's listener rule): uvicorn serving config.asgi, one
    # process (it is async: open sockets cost no thread), beside the pages in the same task.
    name         = "ws"
    command      = ["ws"]
    portMappings = [{ containerPort = 8001, protocol = "tcp" }]
    environment  = concat(local.app_environment, [{ name = "PORT", value = "8001" }, { name = "WEB_CONCURRENCY", value = "1" }])
    healthCheck = {
      command     = ["CMD", "python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8001/healthz', timeout=4)"]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 30
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.app["web"].name
        awslogs-region        = var.region
        awslogs-stream-prefix = "ws"
      }
    }
  })])
}

resource "aws_ecs_task_definition" "worker" {
  for_each                 = var.workers
  family                   = "${local.name}-worker-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([merge(local.container_base, {
    name    = "worker"
    command = ["worker"]
    environment = concat(local.app_environment, [
      { name = "CELERY_QUEUES", value = each.value.queues },
      { name = "CELERY_CONCURRENCY", value = tostring(each.value.concurrency) },
    ])
    # Fargate Spot gives two minutes' notice; acks_late puts unfinished tasks back on the queue.
    stopTimeout = 120
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.app["worker-${each.key}"].name
        awslogs-region        = var.region
        awslogs-stream-prefix = "worker"
      }
    }
  })])
}

resource "aws_ecs_task_definition" "beat" {
  family                   = "${local.name}-beat"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.beat_cpu
  memory                   = var.beat_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([merge(local.container_base, {
    name        = "beat"
    command     = ["beat"]
    environment = local.app_environment
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.app["beat"].name
        awslogs-region        = var.region
        awslogs-stream-prefix = "beat"
      }
    }
  })])
}

# Run once per release before the services update (docs/deployment.md):
#   aws ecs run-task --task-definition <migrate> --launch-type FARGATE ...
resource "aws_ecs_task_definition" "migrate" {
  family                   = "${local.name}-migrate"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 1024
  memory                   = 2048
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([merge(local.container_base, {
    name        = "migrate"
    command     = ["migrate", "--workers=4"]
    environment = local.app_environment
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.app["migrate"].name
        awslogs-region        = var.region
        awslogs-stream-prefix = "migrate"
      }
    }
  })])
}

# --- Services -----------------------------------------------------------------------------------

resource "aws_ecs_service" "web" {
  #checkov:skip=CKV_AWS_333:Without the NAT gateway (enable_nat_gateway=false, the smallest footprint) tasks need a public IP to reach AWS APIs; the security group admits only the load balancer.
  name                   = "web"
  cluster                = aws_ecs_cluster.main.id
  task_definition        = aws_ecs_task_definition.web.arn
  desired_count          = var.web_min_count
  launch_type            = "FARGATE"
  enable_execute_command = false
  propagate_tags         = "SERVICE"

  network_configuration {
    subnets          = local.task_network.subnets
    security_groups  = [aws_security_group.app.id]
    assign_public_ip = local.task_network.assign_public_ip
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.web.arn
    container_name   = "web"
    container_port   = 8000
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.ws.arn
    container_name   = "ws"
    container_port   = 8001
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener.https, aws_lb_listener_rule.websockets]
}

resource "aws_ecs_service" "worker" {
  #checkov:skip=CKV_AWS_333:See the web service: public IP only without the NAT gateway; no inbound rule admits anything.
  for_each               = var.workers
  name                   = "worker-${each.key}"
  cluster                = aws_ecs_cluster.main.id
  task_definition        = aws_ecs_task_definition.worker[each.key].arn
  desired_count          = each.value.min_count
  enable_execute_command = false
  propagate_tags         = "SERVICE"

  capacity_provider_strategy {
    capacity_provider = each.value.spot ? "FARGATE_SPOT" : "FARGATE"
    weight            = 1
  }

  network_configuration {
    subnets          = local.task_network.subnets
    security_groups  = [aws_security_group.app.id]
    assign_public_ip = local.task_network.assign_public_ip
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  lifecycle {
    ignore_changes = [desired_count]
  }
}

# Exactly one scheduler: a deployment stops the old beat before starting the new one.
resource "aws_ecs_service" "beat" {
  #checkov:skip=CKV_AWS_333:See the web service: public IP only without the NAT gateway; no inbound rule admits anything.
  name                               = "beat"
  cluster                            = aws_ecs_cluster.main.id
  task_definition                    = aws_ecs_task_definition.beat.arn
  desired_count                      = 1
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100
  enable_execute_command             = false
  propagate_tags                     = "SERVICE"

  capacity_provider_strategy {
    capacity_provider = "FARGATE_SPOT"
    weight            = 1
  }

  network_configuration {
    subnets          = local.task_network.subnets
    security_groups  = [aws_security_group.app.id]
    assign_public_ip = local.task_network.assign_public_ip
  }
}

# --- Autoscaling: web on CPU; workers on CPU and on queue depth per running task ---------------

resource "aws_appautoscaling_target" "web" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.web.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.web_min_count
  max_capacity       = var.web_max_count
}

resource "aws_appautoscaling_policy" "web_cpu" {
  name               = "${local.name}-web-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.web.service_namespace
  resource_id        = aws_appautoscaling_target.web.resource_id
  scalable_dimension = aws_appautoscaling_target.web.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.web_cpu_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_target" "worker" {
  for_each           = var.workers
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.worker[each.key].name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = each.value.min_count
  max_capacity       = each.value.max_count
}

resource "aws_appautoscaling_policy" "worker_cpu" {
  for_each           = var.workers
  name               = "${local.name}-worker-${each.key}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.worker[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.worker[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.worker[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.worker_cpu_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

# Backlog per task = waiting tasks on the service's queues / running worker tasks. The
# QueueDepth metric (namespace Practika/Celery, dimension Queue) is published every minute by
# a beat task (docs/deployment.md).
resource "aws_appautoscaling_policy" "worker_queue_depth" {
  for_each           = var.workers
  name               = "${local.name}-worker-${each.key}-backlog"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.worker[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.worker[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.worker[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = each.value.queue_depth_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    customized_metric_specification {
      dynamic "metrics" {
        for_each = split(",", each.value.queues)
        content {
          id          = "q${metrics.key}"
          label       = "QueueDepth ${metrics.value}"
          return_data = false
          metric_stat {
            stat = "Average"
            metric {
              namespace   = "Practika/Celery"
              metric_name = "QueueDepth"
              dimensions {
                name  = "Queue"
                value = metrics.value
              }
            }
          }
        }
      }

      metrics {
        id          = "running"
        label       = "Running worker tasks"
        return_data = false
        metric_stat {
          stat = "Average"
          metric {
            namespace   = "ECS/ContainerInsights"
            metric_name = "RunningTaskCount"
            dimensions {
              name  = "ClusterName"
              value = aws_ecs_cluster.main.name
            }
            dimensions {
              name  = "ServiceName"
              value = aws_ecs_service.worker[each.key].name
            }
          }
        }
      }

      metrics {
        id          = "backlog"
        label       = "Backlog per worker task"
        expression  = "IF(running > 0, (${join(" + ", [for index, queue in split(",", each.value.queues) : "q${index}"])}) / running, ${join(" + ", [for index, queue in split(",", each.value.queues) : "q${index}"])})"
        return_data = true
      }
    }
  }
}
