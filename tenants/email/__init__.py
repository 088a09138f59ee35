"""Outgoing email and what comes back from it: the suppression list.

* `backend`: the one email backend Django uses everywhere; it drops every recipient on the
  suppression list, then hands the message to the delivery backend
  (`PRACTIKA_EMAIL_DELIVERY_BACKEND`: Amazon SES through django-anymail in production).
* `webhooks`: anymail's Amazon SES tracking view behind basic auth, on the public site only,
  with the SNS message signature checked (`sns`) — anymail itself does not check it.
* `services` / `selectors`: write and read the suppression list (`EmailSuppression`).
"""
