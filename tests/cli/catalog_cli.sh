#!/bin/bash
# `eosight catalog add|find|list|show|predictions` end to end on rasters made here with
# gdal_create: a UTM scene whose time is in its Sentinel-2 style name and a lon/lat scene whose
# time is in its metadata, plus a text file and a missing file that `add` must report and skip.
# Checks exit codes (0 ok, 1 failure, 2 usage), the LAT,LON order of --point, duplicates,
# --from/--to, the default catalog ($EOSIGHT_CATALOG, else ./eosight-catalog.sqlite) and that
# --json prints valid JSON. $1 is the built eosight command.
set -u
EOS="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
if ! command -v gdal_create >/dev/null || "$EOS" catalog --help 2>&1 | grep -q "without GDAL"; then
    echo "SKIP: needs GDAL (gdal_create, EOS_WITH_GDAL)"; echo "0 passed, 0 failed, 1 skipped"; exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
unset EOSIGHT_CATALOG
json_valid() { # json_valid FILE: python's parser, or skip the check when there is none
    if command -v python3 >/dev/null; then python3 -m json.tool "$1" >/dev/null 2>&1; else true; fi
}

s2=S2A_MSIL2A_20200518T103021_N0214_R108_T32TNS.tif
gdal_create -q -of GTiff -outsize 100 100 -bands 3 -ot UInt16 -a_srs EPSG:32632 \
    -a_ullr 500000 5300000 501000 5299000 "$s2"
gdal_create -q -of GTiff -outsize 100 100 -bands 1 -a_srs EPSG:4326 -a_ullr 10 46 11 45 \
    -mo ACQUISITION_DATE=2019-07-04 lonlat.tif
echo "not a raster" > notes.tif

"$EOS" catalog --help > help.txt 2>&1; check "--help exits 0" [ $? -eq 0 ]
check "--help says LAT,LON" grep -q "LATITUDE FIRST" help.txt
"$EOS" catalog > /dev/null 2>&1; check "no subcommand is bad usage (2)" [ $? -eq 2 ]
"$EOS" catalog frobnicate > /dev/null 2>&1; check "unknown subcommand (2)" [ $? -eq 2 ]
"$EOS" catalog list --db none.sqlite > out.txt 2> err.txt
check "list without a catalog exits 1" [ $? -eq 1 ]
check "  and says there is none" grep -q "no catalog at 'none.sqlite'" err.txt
check "  and creates nothing" [ ! -e none.sqlite ]

"$EOS" catalog add "$s2" lonlat.tif notes.tif missing.tif --db cat.sqlite > add.txt 2> err.txt
check "add with bad files exits 1" [ $? -eq 1 ]
check "two scenes added" [ "$(grep -c $'\tadded\t' add.txt)" -eq 2 ]
check "ids 1 and 2" bash -c "cut -f1 add.txt | tr '\n' ' ' | grep -q '^1 2 $'"
check "non-raster reported by name" grep -q "notes.tif.*PARSE" err.txt
check "missing file reported by name" grep -q "missing.tif.*NOT_FOUND" err.txt
check "summary line" grep -q "2 added, 0 already there, 2 failed" err.txt
"$EOS" catalog add "$s2" --db cat.sqlite > add2.txt 2>/dev/null
check "re-adding exits 0" [ $? -eq 0 ]
check "  as a duplicate of 1" grep -q $'^1\tduplicate\t' add2.txt

"$EOS" catalog find --point 47.85,9.001 --db cat.sqlite > find.txt 2>&1
check "find --point LAT,LON exits 0" [ $? -eq 0 ]
check "  finds the UTM scene" grep -q "^ *1  2020-05-18T10:30:21Z" find.txt
check "  and only it" [ "$(grep -c "^ *[0-9]" find.txt)" -eq 1 ]
"$EOS" catalog find --point 9.001,47.85 --db cat.sqlite > find.txt 2>&1
check "LON,LAT by mistake finds nothing" bash -c "! grep -q '^ *1 ' find.txt"
"$EOS" catalog find --point 200,10 --db cat.sqlite > /dev/null 2> err.txt
check "latitude out of range is bad usage (2)" [ $? -eq 2 ]
check "  with a hint on the order" grep -q "latitude first" err.txt
"$EOS" catalog find --bbox 8,44,12,48 --db cat.sqlite --json > find.json 2>&1
check "find --bbox --json exits 0" [ $? -eq 0 ]
check "  valid JSON" json_valid find.json
check "  both scenes, oldest first" grep -q '"count":2,"scenes":\[{"id":2,' find.json
"$EOS" catalog find --bbox 8,44,12,48 --from 2020-01-01 --to 2020-05-18 --db cat.sqlite > t.txt 2>&1
check "--to DATE includes that whole day" [ "$(grep -c "^ *1 " t.txt)" -eq 1 ]
"$EOS" catalog find --bbox 8,44,12,48 --to 2019-07-03 --db cat.sqlite > t.txt 2>&1
check "--to before both: nothing" bash -c "! grep -q '^ *[0-9]' t.txt"
"$EOS" catalog find --from yesterday --db cat.sqlite > /dev/null 2>&1
check "bad --from is bad usage (2)" [ $? -eq 2 ]
"$EOS" catalog find --bbox 1,2,3 --db cat.sqlite > /dev/null 2>&1
check "three-number --bbox is bad usage (2)" [ $? -eq 2 ]
"$EOS" catalog find --db cat.sqlite > /dev/null 2>&1
check "find without a condition is bad usage (2)" [ $? -eq 2 ]

"$EOS" catalog show 1 --db cat.sqlite > show.txt 2>&1
check "show exits 0" [ $? -eq 0 ]
check "  CRS" grep -q "EPSG:32632" show.txt
check "  time from the file name" grep -q "2020-05-18T10:30:21Z (filename)" show.txt
check "  west edge on the central meridian" grep -q "west 9.0000000" show.txt
"$EOS" catalog show 2 --json --db cat.sqlite > show.json 2>&1
check "show --json valid" json_valid show.json
check "  time from metadata" grep -q '"time_source":"metadata:ACQUISITION_DATE"' show.json
"$EOS" catalog show 99 --db cat.sqlite > /dev/null 2> err.txt
check "show of a missing id exits 1" [ $? -eq 1 ]
check "  naming it" grep -q "no scene 99" err.txt
"$EOS" catalog show abc --db cat.sqlite > /dev/null 2>&1
check "show abc is bad usage (2)" [ $? -eq 2 ]

"$EOS" catalog predictions 1 --db cat.sqlite > p.txt 2>&1
check "predictions of a scene without any exits 0" [ $? -eq 0 ]
if command -v sqlite3 >/dev/null; then
    sqlite3 cat.sqlite "INSERT INTO predictions (scene_id, model, result, created_ms) VALUES
        (1, 'eurosat-rgb', '{\"class\":\"Forest\"}', 1700000000000),
        (1, 'clouds', '{\"cloudy\":0.2}', 1700000001000)"
    "$EOS" catalog predictions 1 --db cat.sqlite > p.txt 2>&1
    check "predictions newest first" bash -c "head -1 p.txt | grep -q 'clouds'"
    "$EOS" catalog predictions 1 --json --db cat.sqlite > p.json 2>&1
    check "predictions --json valid" json_valid p.json
    check "  with the stored result" grep -q '"result":{"class":"Forest"}' p.json
fi
"$EOS" catalog predictions 7 --db cat.sqlite > /dev/null 2>&1
check "predictions of a missing scene exits 1" [ $? -eq 1 ]

EOSIGHT_CATALOG=cat.sqlite "$EOS" catalog list > list.txt 2>&1
check "\$EOSIGHT_CATALOG picks the catalog" [ "$(grep -c "^ *[0-9]" list.txt)" -eq 2 ]
"$EOS" catalog add lonlat.tif > /dev/null 2>&1
check "without --db: ./eosight-catalog.sqlite" [ -f eosight-catalog.sqlite ]
"$EOS" catalog list --json --limit 1 --offset 1 --db cat.sqlite > l.json 2>&1
check "list paged --json" grep -q '"count":1,"scenes":\[{"id":2,' l.json

summary
