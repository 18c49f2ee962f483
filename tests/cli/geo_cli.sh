#!/bin/bash
# `eosight quicklook`, `clean-mask` and `polygonize` end to end on rasters made here with
# gdal_create: a 3-band u16 image and a UTM class mask whose polygons and areas are known by
# hand (a 20 x 20 px block of class 1 at 10 m = 40000 m2, one isolated class-2 pixel that
# clean-mask --min-object 2 removes). $1 is the built eosight command.
set -u
EOS="$1"
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
if ! command -v gdal_create >/dev/null || "$EOS" info --help 2>&1 | grep -q "without GDAL"; then
    echo "SKIP: needs GDAL (gdal_create, EOS_WITH_GDAL)"; echo "0 passed, 0 failed, 1 skipped"; exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# image: 3 bands u16, values 100/2000/3000
gdal_create -q -of GTiff -outsize 64 48 -bands 3 -ot UInt16 -burn 100 -burn 2000 -burn 3000 \
    -a_srs EPSG:32633 -a_ullr 500000 4500480 500640 4500000 "$tmp/img.tif"
"$EOS" quicklook "$tmp/img.tif" "$tmp/ql.png" > "$tmp/ql.log" 2>&1
check "quicklook exits 0" [ $? -eq 0 ]
check "quicklook writes a PNG" bash -c "head -c 8 '$tmp/ql.png' | od -c | grep -q 'P   N   G'"
"$EOS" quicklook --help > /dev/null 2>&1; check "quicklook --help exits 0" [ $? -eq 0 ]
"$EOS" quicklook "$tmp/missing.tif" "$tmp/x.png" 2> "$tmp/err.txt"
check "quicklook on a missing file exits 1" [ $? -eq 1 ]
check "message names the file" grep -q "missing.tif" "$tmp/err.txt"

# mask: 40 x 40 px of 10 m, class 0, a 20 x 20 block of class 1, one pixel of class 2
gdal_create -q -of GTiff -outsize 40 40 -bands 1 -ot Byte -burn 0 -a_srs EPSG:32633 \
    -a_ullr 500000 4500400 500400 4500000 "$tmp/mask.tif"
cat > "$tmp/block.csv" <<'CSV'
WKT,id
"POLYGON((500050 4500350,500250 4500350,500250 4500150,500050 4500150,500050 4500350))",1
CSV
gdal_rasterize -q -burn 1 -l block "$tmp/block.csv" "$tmp/mask.tif" 2>/dev/null
cat > "$tmp/dot.csv" <<'CSV'
WKT,id
"POLYGON((500350 4500050,500360 4500050,500360 4500040,500350 4500040,500350 4500050))",2
CSV
gdal_rasterize -q -burn 2 -l dot "$tmp/dot.csv" "$tmp/mask.tif" 2>/dev/null

"$EOS" polygonize "$tmp/mask.tif" "$tmp/p.geojson" --classes bg,field,dot --skip-background \
    > "$tmp/poly.log" 2>&1
check "polygonize exits 0" [ $? -eq 0 ]
check "two features" [ "$(grep -o '"type": *"Feature"' "$tmp/p.geojson" | wc -l)" -eq 2 ]
check "field area 40000 m2" grep -Eq '"area_m2": *40000(\.0+)?[,} ]' "$tmp/p.geojson"
check "class names" grep -q '"class_name": *"field"' "$tmp/p.geojson"
check "lon/lat coordinates" grep -Eq '\[ *15\.0[0-9]*, *40\.6' "$tmp/p.geojson"

"$EOS" clean-mask "$tmp/mask.tif" "$tmp/clean.tif" --min-object 2 > "$tmp/clean.log" 2>&1
check "clean-mask exits 0" [ $? -eq 0 ]
"$EOS" polygonize "$tmp/clean.tif" "$tmp/c.csv" --skip-background > /dev/null 2>&1
check "polygonize to CSV exits 0" [ $? -eq 0 ]
check "the lone pixel is gone" [ "$(tail -n +2 "$tmp/c.csv" | wc -l)" -eq 1 ]
check "CSV holds WKT" grep -q "POLYGON" "$tmp/c.csv"
"$EOS" polygonize "$tmp/mask.tif" "$tmp/x.txt" > /dev/null 2>&1
check "unknown vector extension is bad usage (2)" [ $? -eq 2 ]

summary
