# Secrets the app reads from its environment, injected by ECS from Secrets Manager (never in
# the task definition itself). Generated values live in the Terraform state: keep the state
# in an encrypted, access-controlled backend (docs/deployment.md).
resource "random_password" "django_secret_key" {
  length  = 64
  special = false
}

resource "aws_secretsmanager_secret" "app" {
  #checkov:skip=CKV2_AWS_57:Rotation needs a rotation Lambda per credential; rotate by re-running Terraform with a new random value (docs/deployment.md).
  name                    = "${local.name}/app"
  description             = "Practika application secrets (JSON: one key per environment variable)"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "app" {
  secret_id = aws_secretsmanager_secret.app.id
  secret_string = jsonencode({
    DJANGO_SECRET_KEY      = random_password.django_secret_key.result
    DATABASE_URL           = "postgresql://${aws_db_instance.main.username}:${random_password.db.result}@${aws_db_instance.main.address}:${aws_db_instance.main.port}/${aws_db_instance.main.db_name}?sslmode=require"
    REDIS_URL              = "rediss://:${random_password.redis.result}@${aws_elasticache_replication_group.main.primary_endpoint_address}:6379/0?ssl_cert_reqs=required"
    ANYMAIL_WEBHOOK_SECRET = local.ses_webhook_secret
  })
}

# The private half of the CloudFront signing key pair is created outside Terraform
# (openssl) and stored here with `aws secretsmanager put-secret-value`, so it is never in state.
# ECS injects the whole secret string (the PEM) as AWS_CLOUDFRONT_KEY (ecs.tf).
resource "aws_secretsmanager_secret" "cloudfront_key" {
  #checkov:skip=CKV2_AWS_57:A key pair cannot be rotated by Lambda; rotate by adding a second public key to the key group.
  name                    = "${local.name}/cloudfront-key"
  description             = "PEM private key that signs media URLs (AWS_CLOUDFRONT_KEY)"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 7
}
