#!/bin/bash
# `eosight info`: the text description of a small GeoTIFF made here with gdal_create (size, CRS,
# transform, corners, bands, nodata), --json, --bands, and the exit codes for bad usage (2) and
# unreadable files (1) with messages naming the file. $1 is the built eosight command.
set -u
EOS="$1"
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
if ! command -v gdal_create >/dev/null || "$EOS" info --help 2>&1 | grep -q "without GDAL"; then
    echo "SKIP: needs GDAL (gdal_create, EOS_WITH_GDAL)"; echo "0 passed, 0 failed, 1 skipped"; exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
gdal_create -q -of GTiff -outsize 40 30 -bands 3 -ot UInt16 -burn 100 -a_srs EPSG:32633 \
    -a_ullr 500000 4500300 500400 4500000 -a_nodata 0 -co TILED=YES -co BLOCKXSIZE=16 \
    -co BLOCKYSIZE=16 "$tmp/s2.tif"

"$EOS" --help > "$tmp/help.txt"; check "help lists info" grep -q "^  info " "$tmp/help.txt"
"$EOS" info "$tmp/s2.tif" > "$tmp/info.txt" 2>&1
check "info exits 0" [ $? -eq 0 ]
check "size" grep -q "^size: *40 x 30 px, 3 bands" "$tmp/info.txt"
check "crs with EPSG" grep -q "UTM zone 33N (EPSG:32633)" "$tmp/info.txt"
check "transform" grep -q "^transform: \[500000, 10, 0, 4500300, 0, -10\]" "$tmp/info.txt"
check "lower right corner" grep -Eq "lower right +\( +500400.0000, +4500000.0000\)" "$tmp/info.txt"
check "corner lon/lat" grep -Eq "upper left .*lon +15\.0000000, lat +40\.65355" "$tmp/info.txt"
check "band line" grep -Eq "^  \* +2 +UInt16 .*nodata 0 .*block 16x16" "$tmp/info.txt"
check "mask yes" grep -q "^mask: *yes" "$tmp/info.txt"
"$EOS" info "$tmp/s2.tif" --json > "$tmp/info.json"
check "json has width and epsg" grep -q '"width":40,"height":30.*"epsg":32633' "$tmp/info.json"
check "json bbox" grep -q '"bbox_wgs84":\[1[45]\.' "$tmp/info.json"
"$EOS" info "$tmp/s2.tif" --bands 3,1 --json > "$tmp/sel.json"
check "json selection" grep -q '"selected":\[3,1\]' "$tmp/sel.json"
"$EOS" info --help > "$tmp/ihelp.txt"; check "info --help exits 0" [ $? -eq 0 ]
# errors
"$EOS" info > /dev/null 2>&1; check "no file: exit 2" [ $? -eq 2 ]
"$EOS" info "$tmp/s2.tif" --frobnicate > /dev/null 2>&1; check "unknown option: exit 2" [ $? -eq 2 ]
"$EOS" info "$tmp/missing.tif" 2> "$tmp/err.txt"; rc=$?
check "missing file: exit 1, message names it" bash -c "[ $rc -eq 1 ] && grep -q 'missing.tif' '$tmp/err.txt'"
echo "not an image" > "$tmp/notes.txt"
"$EOS" info "$tmp/notes.txt" 2> "$tmp/err2.txt"; rc=$?
check "text file: exit 1 (PARSE)" bash -c "[ $rc -eq 1 ] && grep -q 'PARSE' '$tmp/err2.txt'"
"$EOS" info "$tmp/s2.tif" --bands 7 2> "$tmp/err3.txt"; rc=$?
check "band out of range: exit 1" bash -c "[ $rc -eq 1 ] && grep -q 'band 7 requested' '$tmp/err3.txt'"
summary
