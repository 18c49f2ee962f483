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

make_redblue_dataset() { # make_redblue_dataset DIR: a two-class ImageFolder of 16 tiny PNGs
    local d="$1" i v s   # (red and blue images; 6 + 6 train, 2 + 2 val), made with gdal_create
    mkdir -p "$d/images/red" "$d/images/blue" "$d/splits"
    printf 'red\nblue\n' > "$d/classes.txt"
    for i in 0 1 2 3 4 5 6 7; do
        v=$((120 + i * 15))
        gdal_create -q -of PNG -outsize 16 16 -bands 3 -ot Byte -burn $v -burn 40 -burn 30 "$d/images/red/r$i.png"
        gdal_create -q -of PNG -outsize 16 16 -bands 3 -ot Byte -burn 30 -burn 50 -burn $v "$d/images/blue/b$i.png"
        if [ $i -lt 6 ]; then s=train; else s=val; fi
        echo "red/r$i.png 0" >> "$d/splits/$s.txt"
        echo "blue/b$i.png 1" >> "$d/splits/$s.txt"
    done
}
