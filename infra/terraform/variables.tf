# Every size is a variable; the defaults are the smallest sensible production footprint
# (docs/deployment.md has its monthly cost).

variable "project" {
  description = "Name prefix for every resource."
  type        = string
  default     = "practika"
}

variable "environment" {
  description = "Environment name (production, staging)."
  type        = string
  default     = "production"
}

variable "region" {
  description = "AWS region for everything except the CloudFront certificate."
  type        = string
  default     = "eu-west-1"
}

variable "domain_name" {
  description = "Apex domain: the public site; tenants live on <slug>.<domain_name>."
  type        = string
}

variable "route53_zone_id" {
  description = "Hosted zone of domain_name (records for the ALB, certificates, SES)."
  type        = string
}

variable "cdn_subdomain" {
  description = "Subdomain of the CloudFront distribution for static files and media (a reserved tenant slug)."
  type        = string
  default     = "cdn"
}

variable "image_tag" {
  description = "Tag of the application image in the ECR repository."
  type        = string
}

variable "cpu_architecture" {
  description = "Fargate CPU architecture of the image (X86_64 or ARM64)."
  type        = string
  default     = "X86_64"
}

# --- Network -------------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "az_count" {
  description = "Availability zones to spread subnets over (the ALB needs two)."
  type        = number
  default     = 2
}

variable "enable_nat_gateway" {
  description = "Run tasks in private subnets behind a NAT gateway (about $33/month more); off: tasks get public IPs in public subnets, reachable only from the ALB."
  type        = bool
  default     = false
}

# --- Web ------------------------------------------------------------------------------------

variable "web_cpu" {
  description = "Fargate CPU units of a web task (1024 = 1 vCPU)."
  type        = number
  default     = 256
}

variable "web_memory" {
  description = "Memory (MiB) of a web task."
  type        = number
  default     = 1024
}

variable "web_min_count" {
  description = "Minimum number of web tasks."
  type        = number
  default     = 1
}

variable "web_max_count" {
  description = "Maximum number of web tasks."
  type        = number
  default     = 6
}

variable "web_cpu_target" {
  description = "Average CPU (%) the web service scales to keep."
  type        = number
  default     = 60
}

variable "web_concurrency" {
  description = "Page worker processes (gunicorn, WEB_CONCURRENCY) per web task."
  type        = number
  default     = 2
}

# --- Workers --------------------------------------------------------------------------------

variable "workers" {
  description = "Celery worker services: queues each consumes and their sizes. Video work has its own service so uploads never delay billing webhooks."
  type = map(object({
    queues      = string
    cpu         = number
    memory      = number
    concurrency = number
    min_count   = number
    max_count   = number
    # Scale out when more than this many tasks wait per running worker task.
    queue_depth_target = number
    spot               = bool
  }))
  default = {
    default = {
      queues             = "default,billing"
      cpu                = 512
      memory             = 1024
      concurrency        = 2
      min_count          = 1
      max_count          = 4
      queue_depth_target = 20
      spot               = true
    }
    video = {
      queues             = "video"
      cpu                = 1024
      memory             = 2048
      concurrency        = 1
      min_count          = 0
      max_count          = 6
      queue_depth_target = 2
      spot               = true
    }
  }
}

variable "worker_cpu_target" {
  description = "Average CPU (%) the worker services scale to keep."
  type        = number
  default     = 70
}

variable "beat_cpu" {
  description = "Fargate CPU units of the beat task."
  type        = number
  default     = 256
}

variable "beat_memory" {
  description = "Memory (MiB) of the beat task."
  type        = number
  default     = 512
}

# --- Database -------------------------------------------------------------------------------

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.micro"
}

variable "db_engine_version" {
  description = "PostgreSQL major version."
  type        = string
  default     = "17"
}

variable "db_allocated_storage" {
  description = "Initial storage (GiB)."
  type        = number
  default     = 20
}

variable "db_max_allocated_storage" {
  description = "Storage autoscaling ceiling (GiB)."
  type        = number
  default     = 200
}

variable "db_multi_az" {
  description = "Standby in a second AZ (doubles the instance cost)."
  type        = bool
  default     = false
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 14
}

variable "db_performance_insights" {
  description = "Performance Insights (free tier: 7 days of history)."
  type        = bool
  default     = true
}

variable "db_monitoring_interval" {
  description = "Enhanced monitoring interval in seconds (0 disables)."
  type        = number
  default     = 60
}

# --- Redis ----------------------------------------------------------------------------------

variable "redis_node_type" {
  description = "ElastiCache node type (cache, Celery broker, channel layer)."
  type        = string
  default     = "cache.t4g.micro"
}

variable "redis_replicas" {
  description = "Read replicas next to the primary (1+ enables automatic failover)."
  type        = number
  default     = 0
}

# --- Media ----------------------------------------------------------------------------------

variable "media_noncurrent_days" {
  description = "Days a replaced or deleted media object version is kept."
  type        = number
  default     = 30
}

variable "media_ia_transition_days" {
  description = "Days after which media moves to S3 Standard-IA."
  type        = number
  default     = 60
}

variable "cloudfront_public_key_pem" {
  description = "Public key (PEM) that CloudFront uses to verify signed media URLs; its private key goes into the cloudfront-key secret."
  type        = string
}

variable "cloudfront_price_class" {
  description = "CloudFront price class."
  type        = string
  default     = "PriceClass_100"
}

# --- Operations -----------------------------------------------------------------------------

variable "log_retention_days" {
  description = "CloudWatch log retention (days)."
  type        = number
  default     = 365
}

variable "alarm_email" {
  description = "Address that receives alarm notifications."
  type        = string
}

variable "alarm_5xx_percent" {
  description = "Alarm when this share (%) of requests end in 5xx over 5 minutes."
  type        = number
  default     = 5
}

variable "alarm_queue_depth" {
  description = "Alarm when a Celery queue holds more tasks than this for 10 minutes."
  type        = number
  default     = 500
}

variable "alarm_db_cpu_percent" {
  description = "Alarm when database CPU stays above this (%) for 15 minutes."
  type        = number
  default     = 80
}

variable "alarm_db_free_storage_gib" {
  description = "Alarm when free database storage drops below this (GiB)."
  type        = number
  default     = 4
}

variable "deletion_protection" {
  description = "Protect the load balancer and the database against deletion."
  type        = bool
  default     = true
}
