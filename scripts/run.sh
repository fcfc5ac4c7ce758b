#!/usr/bin/env bash
# Set up and run the main job on embedded defaults: headless `jachai-kiosk verify` over sample documents,
# a readable summary per document and annotated images in ./out/annotated (JSON lines in ./out/reports.jsonl),
# then synthetic Police GD copies verified with `--kind gd` and the IMEIs their citizens typed.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

echo "==> building jachai-kiosk (release)"
cargo build --release --locked -p jachai-kiosk
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
cargo build --release --locked -p jachai-gdgen
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
# Exit 2 means some input was refused (the corrupt PNG above, on purpose); anything else is a failure.
[ "$status" -eq 0 ] || [ "$status" -eq 2 ]
