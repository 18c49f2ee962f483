# cmake/WebAssets.cmake - the web app of `eosight serve` (web/, docs/web.md), bundled into the
# eosight library at build time. Included by the top-level CMakeLists.txt after the eosight
# target exists (only with EOS_WITH_GDAL, which builds the service).
#
# Two build steps:
#   1. <build>/web/npm.stamp: `npm ci` in a copy of web/package*.json under <build>/web/npm
#      (cmake/web-npm-ci.cmake; the source tree never gets a node_modules). It reruns only when
#      the lock file (or package.json) changes. When npm is missing or `npm ci` fails, the stamp
#      says why and the build goes on; the next configure removes such a stamp, so that after
#      scripts/install-deps.sh, `make` (which configures, then builds) tries again.
#   2. <build>/web/assets_data.c: the bytes of web/*.html|js|css and of the npm files the pages
#      load (cmake/web-embed.cmake), compiled into the library and looked up by svc_asset_find
#      (src/service/assets.h). Without the npm files, / and /map serve web/not-built.html.
# The browser test (tests/web/browser.sh) drives Debian's chromium with the playwright-core of
# <build>/web/npm/node_modules.

set(EOS_WEB_DIR "${CMAKE_BINARY_DIR}/web")
set(EOS_WEB_STAMP "${EOS_WEB_DIR}/npm.stamp")
set(EOS_WEB_C "${EOS_WEB_DIR}/assets_data.c")
file(MAKE_DIRECTORY "${EOS_WEB_DIR}")

# A stamp left by a failed `npm ci` (or a missing npm) is dropped at configure: try again.
if(EXISTS "${EOS_WEB_STAMP}")
  file(STRINGS "${EOS_WEB_STAMP}" eos_web_stamp LIMIT_COUNT 1)
  if(NOT eos_web_stamp MATCHES "^ok")
    file(REMOVE "${EOS_WEB_STAMP}")
  endif()
endif()

add_custom_command(
  OUTPUT "${EOS_WEB_STAMP}"
  COMMAND "${CMAKE_COMMAND}" -DSRC=${CMAKE_SOURCE_DIR}/web -DDIR=${EOS_WEB_DIR}/npm
          -DSTAMP=${EOS_WEB_STAMP} -P ${CMAKE_SOURCE_DIR}/cmake/web-npm-ci.cmake
  DEPENDS "${CMAKE_SOURCE_DIR}/web/package.json" "${CMAKE_SOURCE_DIR}/web/package-lock.json"
          "${CMAKE_SOURCE_DIR}/cmake/web-npm-ci.cmake"
  COMMENT "web app: npm ci (bootstrap, leaflet, playwright-core) in ${EOS_WEB_DIR}/npm"
  VERBATIM)

file(GLOB EOS_WEB_PAGES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/web/*.html ${CMAKE_SOURCE_DIR}/web/*.js
     ${CMAKE_SOURCE_DIR}/web/*.css ${CMAKE_SOURCE_DIR}/web/*.svg ${CMAKE_SOURCE_DIR}/web/openapi.json)
add_custom_command(
  OUTPUT "${EOS_WEB_C}"
  COMMAND "${CMAKE_COMMAND}" -DSRC=${CMAKE_SOURCE_DIR}/web -DNPM=${EOS_WEB_DIR}/npm
          -DSTAMP=${EOS_WEB_STAMP} -DOUT=${EOS_WEB_C} -P ${CMAKE_SOURCE_DIR}/cmake/web-embed.cmake
  DEPENDS "${EOS_WEB_STAMP}" ${EOS_WEB_PAGES} "${CMAKE_SOURCE_DIR}/cmake/web-embed.cmake"
  COMMENT "web app: embedding the pages and assets (${EOS_WEB_C})"
  VERBATIM)

target_sources(eosight PRIVATE "${EOS_WEB_C}")
