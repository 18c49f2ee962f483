# tests/cli/common.bash - sourced by the CLI test scripts (tests/cli/*.sh; this file's
# extension keeps it out of the test glob): a check helper that counts and prints one line per
# check, and the summary that ends each script.
fail=0; passed=0
check() { # check NAME CONDITION...
    local name="$1"; shift
    if "$@"; then passed=$((passed+1)); echo "ok   $name"; else fail=$((fail+1)); echo "FAIL $name"; fi
}
summary() { # prints the counts; exit status 0 when nothing failed
    echo "$passed passed, $fail failed, 0 skipped"
    [ $fail -eq 0 ]
}
