#!/usr/bin/env bash
# A throwaway Redis server for the tests of shared rate limits: `redis.sh start|stop`.
# Installs Debian's redis-server if it is missing; prints the URL to give in REPERTOIRE_TEST_REDIS_URL.
set -euo pipefail
PORT="${REPERTOIRE_REDIS_PORT:-56379}"
DIR="${REPERTOIRE_REDIS_DIR:-/tmp/repertoire-redis-$PORT}"

case "${1:-}" in
  start)
    if ! command -v redis-server >/dev/null; then
      if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
      else echo "Redis is not installed (apt-get install redis-server)" >&2; exit 1; fi
    fi
    mkdir -p "$DIR"
    if ! redis-cli -p "$PORT" ping >/dev/null 2>&1; then
      redis-server --port "$PORT" --bind 127.0.0.1 --dir "$DIR" --save "" --appendonly no \
        --daemonize yes --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log"
      for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    fi
    echo "redis://127.0.0.1:$PORT/0"
    ;;
  stop)
    redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
