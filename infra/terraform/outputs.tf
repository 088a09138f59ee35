output "alb_dns_name" {
  description = "Load balancer host name (the apex and *.<domain> point here)."
  value       = aws_lb.main.dns_name
}

output "app_url" {
  description = "The public site."
  value       = "https://${var.domain_name}"
}

output "cdn_domain" {
  description = "CloudFront domain for static files and media (PRACTIKA_STATIC_URL points here)."
  value       = local.cdn_domain
}

output "cloudfront_key_id" {
  description = "Id of the public key that verifies signed media URLs (AWS_CLOUDFRONT_KEY_ID)."
  value       = aws_cloudfront_public_key.media.id
}

output "ecr_repository_url" {
  description = "Push the image here, tagged with image_tag."
  value       = aws_ecr_repository.app.repository_url
}

output "ecs_cluster_name" {
  description = "ECS cluster of the web, worker and beat services."
  value       = aws_ecs_cluster.main.name
}

output "ecs_services" {
  description = "ECS service names."
  value       = concat([aws_ecs_service.web.name, aws_ecs_service.beat.name], [for service in aws_ecs_service.worker : service.name])
}

output "migrate_task_definition" {
  description = "Run once per release before updating the services (shared schema, then all tenant schemas)."
  value       = aws_ecs_task_definition.migrate.arn
}

output "task_network" {
  description = "Subnets and security group for `aws ecs run-task` (the migrate task)."
  value = {
    subnets          = local.task_network.subnets
    security_groups  = [aws_security_group.app.id]
    assign_public_ip = local.task_network.assign_public_ip
  }
}

output "media_bucket" {
  description = "Private media bucket (AWS_STORAGE_BUCKET_NAME)."
  value       = aws_s3_bucket.media.bucket
}

output "database_endpoint" {
  description = "RDS PostgreSQL endpoint (the full DATABASE_URL is in the app secret)."
  value       = aws_db_instance.main.endpoint
}

output "redis_endpoint" {
  description = "ElastiCache primary endpoint (the full REDIS_URL is in the app secret)."
  value       = aws_elasticache_replication_group.main.primary_endpoint_address
}

output "app_secret_arn" {
  description = "Secrets Manager secret with DJANGO_SECRET_KEY, DATABASE_URL, REDIS_URL and the email webhook's credentials."
  value       = aws_secretsmanager_secret.app.arn
}

output "cloudfront_key_secret_arn" {
  description = "Secret to put the CloudFront private key into (AWS_CLOUDFRONT_KEY)."
  value       = aws_secretsmanager_secret.cloudfront_key.arn
}

output "ses_events_topic_arn" {
  description = "SNS topic of SES bounces and complaints (subscribed: the app's tracking webhook)."
  value       = aws_sns_topic.ses_events.arn
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify."
  value       = aws_sns_topic.alarms.arn
}
