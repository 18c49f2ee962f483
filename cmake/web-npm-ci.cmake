# cmake/web-npm-ci.cmake - run at build time (cmake -P) by cmake/WebAssets.cmake: installs the
# web app's pinned npm packages with `npm ci` in DIR, a copy of SRC/package.json and
# SRC/package-lock.json (never in the source tree), then writes STAMP: "ok HASH" (of the two
# files) on success, else one line saying what went wrong. It never fails the build: without
# the packages the server embeds a page saying how to get them (docs/web.md).
#   cmake -DSRC=web -DDIR=<build>/web/npm -DSTAMP=<build>/web/npm.stamp -P web-npm-ci.cmake
# PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1: playwright-core drives Debian's chromium in the browser
# test; no browser is downloaded. --prefer-offline lets npm's cache answer without a network.

foreach(v SRC DIR STAMP)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "web-npm-ci.cmake: -D${v}= is required")
  endif()
endforeach()

function(give_up why)
  file(WRITE "${STAMP}" "${why}\n")
  message(WARNING "web app: ${why}. The server will answer GET / with a page saying the web app "
                  "was not built: run scripts/install-deps.sh (nodejs, npm), then make.")
endfunction()

# Same package.json and lock file as the last successful run (a touched or checked-out lock
# file): nothing to install again.
file(SHA256 "${SRC}/package.json" h1)
file(SHA256 "${SRC}/package-lock.json" h2)
string(SHA256 hash "${h1}${h2}")
if(EXISTS "${STAMP}" AND EXISTS "${DIR}/node_modules/.package-lock.json")
  file(STRINGS "${STAMP}" old LIMIT_COUNT 1)
  if(old STREQUAL "ok ${hash}")
    file(TOUCH "${STAMP}")
    return()
  endif()
endif()

find_program(EOS_NPM npm)
if(NOT EOS_NPM)
  give_up("npm not found on PATH")
  return()
endif()

file(MAKE_DIRECTORY "${DIR}")
file(COPY "${SRC}/package.json" "${SRC}/package-lock.json" DESTINATION "${DIR}")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -E env PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
          "${EOS_NPM}" ci --prefer-offline --no-audit --no-fund --loglevel=error
  WORKING_DIRECTORY "${DIR}"
  RESULT_VARIABLE rc
  OUTPUT_FILE "${DIR}/npm-ci.log"
  ERROR_FILE "${DIR}/npm-ci.log"
  TIMEOUT 600)
if(NOT rc STREQUAL "0")
  give_up("npm ci failed (${rc}; log: ${DIR}/npm-ci.log)")
  return()
endif()
foreach(f bootstrap/dist/css/bootstrap.min.css leaflet/dist/leaflet.js leaflet/dist/leaflet.css)
  if(NOT EXISTS "${DIR}/node_modules/${f}")
    give_up("npm ci installed no ${f}")
    return()
  endif()
endforeach()
file(WRITE "${STAMP}" "ok ${hash}\n")
