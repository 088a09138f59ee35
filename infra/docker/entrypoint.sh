#!/bin/sh
# The image's entrypoint: the first argument picks the process (see the Dockerfile).
# exec: the process becomes PID 1's child-free replacement and receives SIGTERM from ECS.
set -eu

role="${1:-web}"
if [ "$#" -gt 0 ]; then
    shift
fi

case "$role" in
    web)
        # --proxy-headers: the ALB appends the client's address to X-Forwarded-For. Only the
        # trusted proxies' entries are believed (PRACTIKA_TRUSTED_PROXIES, the VPC range on
        # ECS, the same setting Django reads): the client is the rightmost other address, never
        # the leftmost, which the client writes itself. Access lines come from Django's request
        # middleware as JSON, so uvicorn's own access log is off.
        exec uvicorn config.asgi:application \
            --host 0.0.0.0 --port "${PORT:-8000}" \
            --workers "${WEB_CONCURRENCY:-2}" \
            --proxy-headers --forwarded-allow-ips "${PRACTIKA_TRUSTED_PROXIES:-127.0.0.1,::1}" \
            --no-access-log --log-config /app/infra/docker/uvicorn-logging.json \
            --lifespan off "$@"
        ;;
    worker)
        # One worker service per queue set: video work never delays billing webhooks.
        exec celery -A config worker \
            --queues "${CELERY_QUEUES:-default,billing,video}" \
            --concurrency "${CELERY_CONCURRENCY:-2}" \
            --loglevel INFO "$@"
        ;;
    beat)
        # The schedule state goes to /tmp: the root filesystem is read-only on ECS.
        exec celery -A config beat --schedule /tmp/celerybeat-schedule --loglevel INFO "$@"
        ;;
    migrate)
        python manage.py migrate_schemas --shared --noinput
        exec python manage.py migrate_tenants "$@"
        ;;
    *)
        exec "$role" "$@"
        ;;
esac
