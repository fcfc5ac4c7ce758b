#!/usr/bin/env bash
# Set up and run the main job on embedded defaults: headless `jachai-kiosk verify` over sample documents,
# a readable summary per document and annotated images in ./out/annotated (JSON lines in ./out/reports.jsonl),
# then synthetic Police GD copies verified with `--kind gd` and the IMEIs their citizens typed, then the sync
# chain on this machine: a private Mosquitto (mTLS + the repo's ACL), jachai-cloud (SQLite, local folder) and
# jachai-sync, which sends the GD cases just verified (reports and images) until the kiosk's backlog is 0.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

echo "==> building jachai-kiosk, jachai-gdgen, jachai-cloud, jachai-sync (release)"
cargo build --release --locked -p jachai-kiosk -p jachai-gdgen -p jachai-cloud -p jachai-edge-sync
bin="$CARGO_TARGET_DIR/release/jachai-kiosk"

d="$JACHAI_SHARED_DATA"
samples=(
    "$d/micc-f220/CRW_4853_scale.jpg"           # an untouched photo
    "$d/micc-f220/CRW_4853tamp1.jpg"            # the same photo with a region copied
    "$d/micc-f220/DSCN45tamp131.jpg"            # copied, rotated and scaled
    "$d/exif-samples/jpg/Canon_PowerShot_S40.jpg"
    "$d/exif-samples/jpg/gps/DSCN0010.jpg"
    "$d/exif-samples/jpg/invalid/image01088.jpg" # broken EXIF: a finding, not a failure
    "$d/pngsuite/basn2c08.png"
    "$d/pngsuite/xcrn0g04.png"                   # corrupt: a clear error, the batch goes on
)
mkdir -p out/annotated
echo "==> jachai-kiosk verify --annotate out/annotated (${#samples[@]} documents)"
status=0
"$bin" verify --annotate out/annotated "${samples[@]}" || status=$?
"$bin" verify --json "${samples[@]}" > out/reports.jsonl || true
echo "==> JSON reports: out/reports.jsonl; annotated images: out/annotated/"

# Police GD copies: synthetic ones from the repo's generator (scans and phone photos, clean and
# tampered), each verified with the IMEIs its citizen typed.
need_debs jq
echo "==> generating 6 synthetic GD copies into out/gd"
rm -rf out/gd
"$CARGO_TARGET_DIR/release/jachai-gdgen" --out out/gd --count 6 --seed 42
: > out/gd-reports.jsonl
while IFS= read -r label; do
    file=$(jq -r .file <<<"$label")
    variant=$(jq -r '.variant + " " + .rendition' <<<"$label")
    imeis=()
    while IFS= read -r i; do imeis+=(--imei "$i"); done < <(jq -r '.typed_imeis[]' <<<"$label")
    echo "==> $file ($variant): jachai-kiosk verify --kind gd ${imeis[*]}"
    "$bin" verify --kind gd "${imeis[@]}" --annotate out/annotated "out/gd/$file" || status=$?
    "$bin" verify --kind gd --json "${imeis[@]}" "out/gd/$file" >> out/gd-reports.jsonl || true
done < out/gd/labels.jsonl
echo "==> GD reports: out/gd-reports.jsonl; labels (ground truth): out/gd/labels.jsonl"

# The sync chain on one machine, everything under out/chain (recreated on each run): a CA and certificates
# made with openssl, a private Mosquitto from broker/mosquitto.conf + broker/acl on a free port, jachai-cloud
# on SQLite and a local folder, and jachai-sync with a kiosk store holding the GD cases verified above.
need_debs openssl sqlite3
chain="$repo/out/chain"
pki="$chain/pki"
kiosk_id="kiosk-demo"
rm -rf "$chain"
mkdir -p "$pki" "$chain/broker" "$chain/cloud" "$chain/kiosk"
pids=()
# Stops what was started, last first (jachai-sync, jachai-cloud, then the broker), each with SIGTERM.
stop_chain() {
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill -TERM "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" 2>/dev/null || true
    done
    pids=()
}
trap stop_chain EXIT

echo "==> certificates (openssl): CA, broker (localhost/127.0.0.1), clients CN=cloud and CN=$kiosk_id in out/chain/pki"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$pki/ca.key" -out "$pki/ca.crt" -subj "/CN=jachai-demo-ca" -days 2 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$pki/server.ext"
printf 'extendedKeyUsage=clientAuth\n' > "$pki/client.ext"
for pair in server:localhost cloud:cloud "$kiosk_id:$kiosk_id"; do
    name=${pair%%:*} cn=${pair#*:}
    ext="$pki/client.ext"
    [ "$name" = server ] && ext="$pki/server.ext"
    openssl req "${ec[@]}" -keyout "$pki/$name.key" -out "$pki/$name.csr" -subj "/CN=$cn" 2>/dev/null
    openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
        -out "$pki/$name.crt" -days 2 -extfile "$ext" 2>/dev/null
done
chmod 600 "$pki"/*.key

# A free port from 28883 up (never the package's 1883 or the production 8883).
port=28883
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
# broker/mosquitto.conf with its paths and port replaced, as the tests do; the ACL is broker/acl itself.
sed -e "s#^listener 8883\$#listener $port 127.0.0.1#" \
    -e "s#/etc/mosquitto/jachai/acl#$repo/broker/acl#" \
    -e "s#/etc/mosquitto/jachai/#$pki/#" \
    -e "s#/var/lib/mosquitto/jachai/#$chain/broker/#" \
    broker/mosquitto.conf > "$chain/mosquitto.conf"
# Started as root, Mosquitto would drop to the `mosquitto` user, who cannot read out/chain.
[ "$(id -u)" -ne 0 ] || echo "user root" >> "$chain/mosquitto.conf"
echo "==> mosquitto (mTLS + broker/acl) on 127.0.0.1:$port; log out/chain/broker/mosquitto.log"
mosquitto -c "$chain/mosquitto.conf" 2> "$chain/broker/mosquitto.log" &
pids+=($!)
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$chain/broker/mosquitto.log" >&2; exit 1; }
    sleep 0.1
done

cat > "$chain/cloud.toml" <<TOML
database_url = "sqlite:$chain/cloud/cloud.db"
blob_dir = "$chain/cloud/blobs"
signing_key = "$chain/cloud/signing.key"
[mqtt]
host = "localhost"
port = $port
ca = "$pki/ca.crt"
cert = "$pki/cloud.crt"
key = "$pki/cloud.key"
client_id = "cloud-1"
TOML
cloud_bin="$CARGO_TARGET_DIR/release/jachai-cloud"
sync_bin="$CARGO_TARGET_DIR/release/jachai-sync"
"$cloud_bin" --config "$chain/cloud.toml" --check > "$chain/cloud.log" 2>&1 || { cat "$chain/cloud.log" >&2; exit 1; }
echo "==> jachai-cloud --config out/chain/cloud.toml (SQLite out/chain/cloud/cloud.db, images out/chain/cloud/blobs); log out/chain/cloud.log"
"$cloud_bin" --config "$chain/cloud.toml" >> "$chain/cloud.log" 2>&1 &
pids+=($!)

store=(--db "$chain/kiosk/kiosk.db" --blobs "$chain/kiosk/blobs")
echo "==> jachai-sync enqueue: the verified GD copies as cases (report + image) in the kiosk store out/chain/kiosk"
while IFS= read -r label; do
    file=$(jq -r .file <<<"$label")
    report=$(jq -c --arg f "$file" 'select(.file | endswith($f))' out/gd-reports.jsonl | head -n 1)
    if [ -z "$report" ] || [ "$(jq 'has("error")' <<<"$report")" = true ]; then
        echo "    $file: no report, not recorded"
        continue
    fi
    printf '%s\n' "$report" > "$chain/kiosk/report.json"
    imeis=()
    while IFS= read -r i; do imeis+=(--imei "$i"); done < <(jq -r '.typed_imeis[]' <<<"$label")
    seq=$("$sync_bin" enqueue "${store[@]}" --report "$chain/kiosk/report.json" --image "out/gd/$file" "${imeis[@]}")
    echo "    $file: case seq $seq ($(jq -r '.verdict + ", risk " + (.risk | tostring)' <<<"$report"))"
done < out/gd/labels.jsonl
rm -f "$chain/kiosk/report.json"

echo "==> jachai-sync --kiosk $kiosk_id --broker localhost:$port (mTLS); log out/chain/sync.log"
"$sync_bin" "${store[@]}" --index "$chain/kiosk/stolen" --broker "localhost:$port" --kiosk "$kiosk_id" \
    --ca "$pki/ca.crt" --cert "$pki/$kiosk_id.crt" --key "$pki/$kiosk_id.key" \
    --trusted-key "$chain/cloud/signing.key.pub" > "$chain/sync.log" 2>&1 &
pids+=($!)
backlog=""
for _ in $(seq 600); do
    backlog=$("$sync_bin" backlog "${store[@]}")
    [ "$(jq .backlog <<<"$backlog")" -eq 0 ] && break
    sleep 0.2
done
echo "    jachai-sync backlog: $backlog"
if [ "$(jq .backlog <<<"$backlog")" -ne 0 ]; then
    echo "error: the kiosk backlog did not drain in 120 s (see out/chain/*.log)" >&2
    exit 1
fi
db="$chain/cloud/cloud.db"
echo "==> counts: kiosk store $(jq .cases <<<"$backlog") cases;" \
    "cloud DB $(sqlite3 "$db" 'SELECT count(*) FROM cases') cases," \
    "$(sqlite3 "$db" 'SELECT count(*) FROM blobs') images ($(sqlite3 "$db" 'SELECT coalesce(sum(size), 0) FROM blobs') bytes)," \
    "$(sqlite3 "$db" 'SELECT count(*) FROM case_blobs') case-image links"
echo "==> stopping jachai-sync, jachai-cloud, mosquitto"
stop_chain
# Exit 2 means some input was refused (the corrupt PNG above, on purpose); anything else is a failure.
[ "$status" -eq 0 ] || [ "$status" -eq 2 ]
