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
        # The pages (everything but /ws/): gunicorn serving config.wsgi. The command lines live
        # in platform/config/webserver.py, so that the benchmarks and the load test start
        # exactly what production runs.
        exec python -m config.webserver --kind pages "$@"
        ;;
    ws)
        # The websockets (/ws/, routed here by the load balancer): uvicorn serving config.asgi.
        exec python -m config.webserver --kind websockets "$@"
        ;;
    worker)
        # The connection pool is the web server's (config.settings.production): prefork
        # workers must not inherit one from their parent, so they keep plain connections.
        export DJANGO_DB_POOL="${DJANGO_DB_POOL:-off}"
        # The alignment kernels compiled at image build (see the Dockerfile), copied where
        # numba may write: the analyses of every worker process load them instead of
        # compiling them.
        seed="${PRACTIKA_NUMBA_CACHE_SEED:-/opt/numba-cache}"
        export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-/tmp/numba-cache}"
        if [ -d "$seed" ] && [ ! -e "$NUMBA_CACHE_DIR" ]; then
            cp -R "$seed" "$NUMBA_CACHE_DIR"
        fi
        # One worker service per queue set: video work never delays billing webhooks.
        exec celery -A config worker \
            --queues "${CELERY_QUEUES:-default,billing,video}" \
            --concurrency "${CELERY_CONCURRENCY:-2}" \
            --loglevel INFO "$@"
        ;;
    beat)
        export DJANGO_DB_POOL="${DJANGO_DB_POOL:-off}"
        # The schedule state goes to /tmp: the root filesystem is read-only on ECS.
        exec celery -A config beat --schedule /tmp/celerybeat-schedule --loglevel INFO "$@"
        ;;
    migrate)
        export DJANGO_DB_POOL="${DJANGO_DB_POOL:-off}"
        python manage.py migrate_schemas --shared --noinput
        exec python manage.py migrate_tenants "$@"
        ;;
    *)
        exec "$role" "$@"
        ;;
esac
