#!/usr/bin/env bash
# Run by scripts/deb-test.sh inside the test root, in a private network namespace: start the broker, the
# cloud and jachai-sync as their systemd units would (same user, command line and state folders), enroll
# the kiosk, and check `jachai-kiosk doctor`. Not for use on a real system: there, systemd starts them.
set -euo pipefail
pids=()
# shellcheck disable=SC2317 # called by the trap
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT

# ExecStart= of a unit, with the variables of its environment file expanded.
exec_start() {
    awk '/^ExecStart=/ { on = 1; sub(/^ExecStart=/, "") }
         on { line = line " " $0; if ($0 !~ /\\$/) { gsub(/\\/, "", line); gsub(/ +/, " ", line); print line; exit } }' \
        "/lib/systemd/system/$1"
}
# As systemd's StateDirectory= would.
state_dir() { install -d -o "$2" -g "$2" -m "$3" "/var/lib/$1"; }
wait_port() {
    for _ in $(seq 150); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.2
    done
    echo "FAIL: nothing listens on $1" >&2
    return 1
}

state_dir mosquitto/jachai jachai-broker 0700
cmd=$(exec_start jachai-broker.service)
echo "broker: $cmd"
read -ra args <<<"$cmd"
runuser -u jachai-broker -- "${args[@]}" 2>/tmp/broker.log &
pids+=($!)
wait_port 8883 || { cat /tmp/broker.log >&2; exit 1; }

state_dir jachai-cloud jachai 0700
cmd=$(exec_start jachai-cloud.service)
echo "cloud: $cmd"
read -ra args <<<"$cmd"
(cd /var/lib/jachai-cloud && RUST_LOG=info runuser -u jachai -- "${args[@]}" >/tmp/cloud.log 2>&1) &
pids+=($!)
wait_port 8080 || { cat /tmp/cloud.log >&2; exit 1; }
# GET a path from the cloud's HTTP side (no curl in a minimal root).
http_get() {
    exec 3<>/dev/tcp/127.0.0.1/8080
    printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$1" >&3
    cat <&3
    exec 3<&-
}
for _ in $(seq 100); do
    http_get /healthz >/tmp/health.txt 2>/dev/null && grep -q '"status":"ok"' /tmp/health.txt && break
    sleep 0.2
done
echo "cloud /healthz: $(tail -n 1 /tmp/health.txt)"
grep -q '"status":"ok"' /tmp/health.txt || { cat /tmp/cloud.log >&2; exit 1; }

# Enrollment as docs/enrollment.md has it: an admin issues a one-time token over the API, the kiosk
# trades it and a CSR for its certificate, the CA, the cloud's signing key and sync.env.
kiosk_id=test-kiosk-1
password=deb-test-admin-password
echo "$password" | runuser -u jachai -- jachai-cloud --config /etc/jachai/cloud.toml user add admin --role admin
curl -fsS -c /tmp/jar -H 'content-type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$password\"}" http://localhost:8080/api/v1/auth/login >/tmp/me.json
csrf=$(grep -o '"csrf_token":"[^"]*"' /tmp/me.json | cut -d'"' -f4)
curl -fsS -b /tmp/jar -H "x-csrf-token: $csrf" -H 'content-type: application/json' \
    -d "{\"kiosk\":\"$kiosk_id\",\"label\":\"deb-test\"}" http://localhost:8080/api/v1/admin/enroll-tokens >/tmp/token.json
token=$(grep -o '"token":"[^"]*"' /tmp/token.json | cut -d'"' -f4)
[ -n "$token" ] || { echo "FAIL: no token: $(cat /tmp/token.json)" >&2; exit 1; }
JACHAI_ENROLL_TOKEN=$token jachai-sync enroll --cloud http://localhost:8080 --kiosk "$kiosk_id" --group jachai ||
    { tail -n 20 /tmp/cloud.log >&2; exit 1; }
ls -l /etc/jachai

state_dir jachai jachai 0750
set -a
# shellcheck disable=SC1091
. /etc/jachai/sync.env
set +a
cmd=$(exec_start jachai-sync.service | sed -e "s/\${JACHAI_KIOSK_ID}/$JACHAI_KIOSK_ID/" -e "s/\${JACHAI_BROKER}/$JACHAI_BROKER/")
echo "sync: $cmd"
read -ra args <<<"$cmd"
(cd /var/lib/jachai && RUST_LOG=info runuser -u jachai -- "${args[@]}" >/tmp/sync.log 2>&1) &
pids+=($!)

# No camera, GPIO or display in this root: the kiosk configuration says so, as on a demonstration machine.
cat >>/etc/jachai/kiosk.toml <<'TOML'
camera = { kind = "simulated", path = "/srv/jachai-demo" }
gpio = { kind = "simulated" }
TOML
for i in $(seq 60); do
    if runuser -u jachai -- env JACHAI_KIOSK_ID="$JACHAI_KIOSK_ID" jachai-kiosk doctor >/tmp/doctor.txt 2>&1; then
        cat /tmp/doctor.txt
        echo "ok: jachai-kiosk doctor passes (after ${i} tries)"
        exit 0
    fi
    sleep 1
done
cat /tmp/doctor.txt
echo "--- sync log" >&2; tail -n 30 /tmp/sync.log >&2
echo "--- cloud log" >&2; tail -n 30 /tmp/cloud.log >&2
echo "FAIL: jachai-kiosk doctor" >&2
exit 1
