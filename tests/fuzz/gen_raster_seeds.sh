#!/usr/bin/env bash
# tests/fuzz/gen_raster_seeds.sh - regenerate the seed corpus of tests/fuzz/fuzz_raster.c
# (tests/fuzz/corpus/raster/): tiny rasters (< 4 KB each) that reach every part of the reader -
# tiled and striped GeoTIFF, DEFLATE/LZW/PACKBITS/JPEG compression, band and pixel interleaving,
# BigTIFF, nodata (integer and NaN), a per-dataset mask, an alpha band, overviews, a COG, a
# rotated geotransform, 13 bands, and the plain image formats open_from_memory accepts (PNG,
# JPEG, GIF, BMP, JPEG 2000). GDAL's command-line tools only, no Python.
#
# Every seed is synthetic (constant fills made with gdal_create): no dataset of ../shared is
# copied or cropped into the project. Run from anywhere: tests/fuzz/gen_raster_seeds.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/fuzz/corpus/raster
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
rm -f "$out"/*

t() { gdal_translate -q "$@"; }
src=$tmp/src.tif
gdal_create -q -of GTiff -outsize 24 16 -bands 3 -ot Byte -burn 7 -burn 90 -burn 200 \
    -a_srs EPSG:32618 -a_ullr 101985 2826915 109185 2822115 -a_nodata 0 "$src"
tiled16=(-co TILED=YES -co BLOCKXSIZE=16 -co BLOCKYSIZE=16)

t -ot UInt16 -scale 0 255 0 10000 -a_nodata 0 "${tiled16[@]}" -co COMPRESS=DEFLATE "$src" "$out/u16_tiled_deflate.tif"
t -a_srs EPSG:4326 -a_ullr 12 45 12.024 44.984 -co COMPRESS=LZW -co BLOCKYSIZE=4 "$src" "$out/u8_striped_lzw_4326.tif"
t -b 1 -b 2 -b 3 -b 1 -colorinterp red,green,blue,alpha -co ALPHA=YES -co COMPRESS=PACKBITS "$src" "$out/rgba_alpha.tif"
t -mask 1 --config GDAL_TIFF_INTERNAL_MASK YES -a_nodata none -co COMPRESS=DEFLATE "$src" "$out/internal_mask.tif"
t -ot Int16 -scale 0 255 -1000 1000 -a_nodata -1000 -co COMPRESS=DEFLATE -co INTERLEAVE=BAND "$src" "$out/i16_band_interleaved.tif"
gdaladdo -q -r nearest "$out/i16_band_interleaved.tif" 2 4
t -ot Float32 -b 1 -a_nodata nan -co COMPRESS=DEFLATE -co PREDICTOR=3 "$src" "$out/f32_nan_nodata.tif"
t -co BIGTIFF=YES -co COMPRESS=DEFLATE "$src" "$out/bigtiff.tif"
t -a_nodata none -co COMPRESS=JPEG -co PHOTOMETRIC=YCBCR "${tiled16[@]}" "$src" "$out/jpeg_ycbcr.tif"
# (COG warns that 16 px blocks are unusual: tiny is the point here)
t -of COG -co COMPRESS=DEFLATE -co BLOCKSIZE=16 "$src" "$out/cog.tif"
bands13=()
for i in 1 2 3 1 2 3 1 2 3 1 2 3 1; do bands13+=(-b "$i"); done
t -ot UInt16 "${bands13[@]}" -co COMPRESS=DEFLATE "$src" "$out/u16_13bands.tif"
t -of PNG -b 1 "$src" "$out/gray.png"
t -of PNG -b 1 -b 2 -b 3 -b 1 -colorinterp red,green,blue,alpha "$src" "$out/rgba.png"
t -of JPEG -co QUALITY=50 "$src" "$out/rgb.jpg"
t -of GIF -b 1 "$src" "$out/gray.gif"
t -of BMP -b 1 "$src" "$out/gray.bmp"
if gdalinfo --formats | grep JP2OpenJPEG >/dev/null; then
    t -of JP2OpenJPEG -b 1 "$src" "$out/gray.jp2"
fi
# a rotated/sheared geotransform (written through a VRT: gdal_translate 3.6 has no -a_gt)
cat > "$tmp/rot.vrt" <<VRT
<VRTDataset rasterXSize="10" rasterYSize="15">
  <GeoTransform>100, 17.32, 5.0, 200, 10.0, -8.66</GeoTransform>
  <VRTRasterBand dataType="Byte" band="1">
    <NoDataValue>255</NoDataValue>
    <SimpleSource><SourceFilename relativeToVRT="0">$src</SourceFilename><SourceBand>1</SourceBand>
      <SrcRect xOff="0" yOff="0" xSize="10" ySize="15"/><DstRect xOff="0" yOff="0" xSize="10" ySize="15"/>
    </SimpleSource>
  </VRTRasterBand>
</VRTDataset>
VRT
t -co COMPRESS=PACKBITS "$tmp/rot.vrt" "$out/rotated_gt.tif"
# f32 with a huge negative nodata in a custom CRS without EPSG code, and a positive-y transform
gdal_create -q -of GTiff -outsize 13 12 -bands 1 -ot Float32 -burn 1.5 -a_nodata -3.4e38 \
    -a_srs "+proj=laea +lat_0=45 +lon_0=-100 +x_0=0 +y_0=0 +datum=WGS84 +units=m" \
    -a_ullr -1000 1000 300 -200 "$out/f32_laea_nodata.tif"
gdal_create -q -of GTiff -outsize 3 2 -bands 1 -ot Float32 -burn 2 -a_nodata nan \
    -a_ullr 0 0 3 2 "$out/f32_nan_positive_y.tif"
rm -f "$out"/*.aux.xml "$out"/*.wld "$out"/*.msk

for f in "$out"/*; do
    size=$(stat -c %s "$f")
    if [ "$size" -ge 4096 ]; then echo "gen_raster_seeds: $f is $size bytes (>= 4 KB)" >&2; exit 1; fi
done
ls -l "$out"
