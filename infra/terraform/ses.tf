# Email (invitations, password resets, digests) through the Amazon SES API, from the apex
# domain. The app sends with its ECS task role (django-anymail's Amazon SES backend, boto3):
# no SMTP user, no long-lived key. Bounces and complaints come back through an SNS topic to
# the app's tracking webhook, which suppresses the address (docs/deployment.md).
resource "aws_ses_domain_identity" "main" {
  domain = var.domain_name
}

resource "aws_route53_record" "ses_verification" {
  zone_id = var.route53_zone_id
  name    = "_amazonses.${var.domain_name}"
  type    = "TXT"
  ttl     = 600
  records = [aws_ses_domain_identity.main.verification_token]
}

resource "aws_ses_domain_identity_verification" "main" {
  domain     = aws_ses_domain_identity.main.id
  depends_on = [aws_route53_record.ses_verification]
}

resource "aws_ses_domain_dkim" "main" {
  domain = aws_ses_domain_identity.main.domain
}

resource "aws_route53_record" "ses_dkim" {
  count   = 3
  zone_id = var.route53_zone_id
  name    = "${aws_ses_domain_dkim.main.dkim_tokens[count.index]}._domainkey.${var.domain_name}"
  type    = "CNAME"
  ttl     = 600
  records = ["${aws_ses_domain_dkim.main.dkim_tokens[count.index]}.dkim.amazonses.com"]
}

# --- Bounces and complaints -------------------------------------------------------------------

resource "aws_sns_topic" "ses_events" {
  name              = "${local.name}-ses-events"
  kms_master_key_id = aws_kms_key.main.arn
}

# Only SES, for this account's identity, may publish to the topic.
resource "aws_sns_topic_policy" "ses_events" {
  arn    = aws_sns_topic.ses_events.arn
  policy = data.aws_iam_policy_document.ses_events.json
}

data "aws_iam_policy_document" "ses_events" {
  statement {
    sid       = "SesPublishes"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.ses_events.arn]
    principals {
      type        = "Service"
      identifiers = ["ses.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_ses_domain_identity.main.arn]
    }
  }
}

resource "aws_ses_identity_notification_topic" "events" {
  for_each                 = toset(["Bounce", "Complaint"])
  identity                 = aws_ses_domain_identity.main.domain
  notification_type        = each.key
  topic_arn                = aws_sns_topic.ses_events.arn
  include_original_headers = false
  depends_on               = [aws_sns_topic_policy.ses_events]
}

# The webhook's basic-auth credentials ("user:password"): in the SNS subscription's URL and in
# the app secret (ANYMAIL_WEBHOOK_SECRET). Amazon SNS signs each message as well; the app checks
# that signature against Amazon's certificate (tenants/email/sns.py).
resource "random_password" "ses_webhook" {
  length  = 40
  special = false
}

locals {
  ses_webhook_user   = "ses"
  ses_webhook_secret = "${local.ses_webhook_user}:${random_password.ses_webhook.result}"
  ses_webhook_path   = "/webhooks/email/ses/tracking/"
}

# HTTPS to the public site (the apex: the webhook is not routed on tenants' hosts). The app
# confirms the subscription itself when SNS asks (anymail's auto-confirm, authenticated with the
# task role), so the web service must be running for the first apply to finish.
resource "aws_sns_topic_subscription" "ses_events_webhook" {
  topic_arn                       = aws_sns_topic.ses_events.arn
  protocol                        = "https"
  endpoint                        = "https://${local.ses_webhook_secret}@${var.domain_name}${local.ses_webhook_path}"
  endpoint_auto_confirms          = true
  confirmation_timeout_in_minutes = 10
  raw_message_delivery            = false
  depends_on                      = [aws_ecs_service.web]
}
