#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers bandsaw wrote (issue 22), with libFuzzer.
#
#   scripts/fuzz.sh                      build every target, replay the regressions, fuzz each 20 s
#   scripts/fuzz.sh --time 600           fuzz each target 600 s
#   scripts/fuzz.sh --only png_fast      one target (repeatable)
#   scripts/fuzz.sh --replay             build and replay Tests/Fixtures/fuzz-regressions only
#
# C targets (fuzz/targets/*.c) are built with clang -fsanitize=fuzzer,address,undefined over
# the CPNG and CCodecs sources; the Swift targets share one binary (fuzz/targets/swift_parsers.swift
# over ImageCore, ImageCodecs and ImageFilters, all built by swiftc -sanitize=fuzzer,address),
# picked by BANDSAW_FUZZ_TARGET. Nothing here touches Package.swift: the package keeps no unsafe flags.
#
# Seeds come from fuzz/corpus/<target>/ (small, committed; scripts/make-hostile.py writes them)
# and from Tests/Fixtures; what a run grows stays in .build-fuzz/corpus/<target>/ (not
# committed). A crash, leak, timeout or over-limit allocation is copied to
# Tests/Fixtures/fuzz-regressions/<target>/ and the script fails; every file there is replayed
# by each run, and by the Swift tests (FuzzRegressionTests) through the real parsers.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=20
replay_only=0
only=()
while [ $# -gt 0 ]; do
    case "$1" in
        --time) seconds="$2"; shift 2 ;;
        --only) only+=("$2"); shift 2 ;;
        --replay) replay_only=1; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "fuzz.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

toolchain_bin=$(dirname "$(command -v swiftc)")
CC=${FUZZ_CC:-$toolchain_bin/clang}
SWIFTC=${FUZZ_SWIFTC:-$toolchain_bin/swiftc}
out=$root/.build-fuzz
mkdir -p "$out/bin" "$out/obj" "$out/modules" "$out/corpus" "$out/artifacts"

c_targets=(png_fast png_restart tiff_layout jpeg_decode webp_decode)
swift_targets=(pnm exif filter_spec decode jpeg_bands)
# Which C door each C target needs.
declare -A c_sources=(
    [png_fast]=CPNG [png_restart]=CPNG [tiff_layout]=CCodecs [jpeg_decode]=CCodecs [webp_decode]=CCodecs
)
declare -A c_libs=([CPNG]="-lpng16 -lz -ldeflate" [CCodecs]="-ljpeg -ltiff -lwebp")
# Dictionaries where they help the mutator find structure.
declare -A dicts=(
    [png_fast]=png [png_restart]=png [decode]=png [jpeg_decode]=jpeg [exif]=jpeg [tiff_layout]=tiff
    [webp_decode]=webp [pnm]=pnm [filter_spec]=filter_spec [jpeg_bands]=jpeg
)

selected() {
    [ ${#only[@]} -eq 0 ] && return 0
    local t
    for t in "${only[@]}"; do [ "$t" = "$1" ] && return 0; done
    return 1
}

# Rebuilds $1 when any of the remaining files is newer (or it is missing).
stale() {
    local target=$1; shift
    [ -e "$target" ] || return 0
    [ -n "$(find "$@" -newer "$target" -print -quit 2>/dev/null)" ]
}

# shellcheck disable=SC2054 # the commas are clang's sanitizer list, not array separators
c_flags=(-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fuse-ld=lld
         -ISources/CStatus/include -ISources/CPNG/include -ISources/CCodecs/include)

# MARK: - C targets
for t in "${c_targets[@]}"; do
    selected "$t" || continue
    door=${c_sources[$t]}
    bin=$out/bin/$t
    if stale "$bin" fuzz/targets/"$t".c fuzz/targets/fuzz_common.h Sources/"$door"; then
        echo "fuzz.sh: building $t" >&2
        # shellcheck disable=SC2086 # the library list is meant to split
        "$CC" "${c_flags[@]}" -o "$bin" fuzz/targets/"$t".c Sources/"$door"/*.c ${c_libs[$door]}
    fi
done

# MARK: - Swift targets (one binary)
# The Swift modules in dependency order; each is compiled whole (-wmo) into one object and a
# .swiftmodule, with coverage and ASan, then the harness links them with the C doors.
swift_modules=(ImageCore ImageCodecs ImageFilters)
c_doors=(CStatus CPNG CCodecs CKernels)
need_swift=0
for t in "${swift_targets[@]}"; do selected "$t" && need_swift=1; done
if [ $need_swift -eq 1 ]; then
    bin=$out/bin/swift_parsers
    watched=(fuzz/targets/swift_parsers.swift)
    for m in "${swift_modules[@]}" "${c_doors[@]}"; do watched+=("Sources/$m"); done
    if stale "$bin" "${watched[@]}"; then
        echo "fuzz.sh: building the Swift targets (${swift_modules[*]} with -sanitize=fuzzer,address)" >&2
        objs=()
        module_flags=(-I "$out/swiftmodules")
        mkdir -p "$out/swiftmodules"
        for door in "${c_doors[@]}"; do
            mkdir -p "$out/modules/$door" "$out/obj/$door"
            printf 'module %s {\n    umbrella "%s"\n    export *\n}\n' "$door" "$root/Sources/$door/include" \
                > "$out/modules/$door/module.modulemap"
            module_flags+=(-Xcc -fmodule-map-file="$out/modules/$door/module.modulemap" -ISources/"$door"/include)
            for src in Sources/"$door"/*.c; do
                [ -e "$src" ] || continue
                obj=$out/obj/$door/$(basename "$src" .c).o
                "$CC" -g -O1 -fsanitize=fuzzer-no-link,address -ISources/CStatus/include -ISources/"$door"/include \
                    -c "$src" -o "$obj"
                objs+=("$obj")
            done
        done
        for m in "${swift_modules[@]}"; do
            mapfile -t swift_sources < <(find Sources/"$m" -name '*.swift' | sort)
            "$SWIFTC" -g -Onone -sanitize=fuzzer,address -parse-as-library -wmo -module-name "$m" -package-name bandsaw \
                "${module_flags[@]}" -emit-module -emit-module-path "$out/swiftmodules/$m.swiftmodule" \
                -c "${swift_sources[@]}" -o "$out/obj/$m.o" 2> "$out/swift-build.log" \
                || { cat "$out/swift-build.log" >&2; exit 1; }
            objs+=("$out/obj/$m.o")
        done
        "$SWIFTC" -g -Onone -sanitize=fuzzer,address -parse-as-library -package-name bandsaw "${module_flags[@]}" \
            fuzz/targets/swift_parsers.swift "${objs[@]}" \
            -lpng16 -lz -ldeflate -ljpeg -ltiff -lwebp -lm -o "$bin" 2> "$out/swift-build.log" \
            || { cat "$out/swift-build.log" >&2; exit 1; }
    fi
fi

# MARK: - Running

binary_for() { case " ${swift_targets[*]} " in *" $1 "*) echo "$out/bin/swift_parsers" ;; *) echo "$out/bin/$1" ;; esac; }

# Per-input limits: 10 s is a hang; one allocation over 128 MiB (the targets cap images at
# 2^20 pixels, 8 MiB at most as 16-bit RGBA) or 1 GiB resident is a bomb.
fuzz_flags=(-timeout=10 -malloc_limit_mb=128 -rss_limit_mb=1024 -print_final_stats=1)
regressions=Tests/Fixtures/fuzz-regressions
failed=0
summary=()

for t in "${c_targets[@]}" "${swift_targets[@]}"; do
    selected "$t" || continue
    bin=$(binary_for "$t")
    export BANDSAW_FUZZ_TARGET=$t
    # Replay: every saved regression must now pass.
    if [ -d "$regressions/$t" ] && [ -n "$(ls -A "$regressions/$t")" ]; then
        if ! "$bin" "${fuzz_flags[@]}" "$regressions/$t"/* > "$out/$t-replay.log" 2>&1; then
            echo "fuzz.sh: $t: a regression input fails again (see $out/$t-replay.log)" >&2
            failed=1
        fi
    fi
    [ $replay_only -eq 1 ] && continue

    work=$out/corpus/$t
    mkdir -p "$work"
    seeds=()
    [ -d fuzz/corpus/"$t" ] && seeds+=(fuzz/corpus/"$t")
    case "$t" in
        png_fast|png_restart|decode) seeds+=(Tests/Fixtures/variants Tests/Fixtures/bad) ;;
        pnm) seeds+=(Tests/Fixtures/variants) ;;
    esac
    dict=()
    [ -n "${dicts[$t]:-}" ] && dict=("-dict=fuzz/dict/${dicts[$t]}.dict")
    artifacts=$out/artifacts/$t/
    rm -rf "$artifacts"; mkdir -p "$artifacts"
    log=$out/$t.log
    echo "fuzz.sh: fuzzing $t for ${seconds}s" >&2
    set +e
    "$bin" "${fuzz_flags[@]}" "${dict[@]}" -max_total_time="$seconds" -artifact_prefix="$artifacts" \
        "$work" "${seeds[@]}" > "$log" 2>&1
    rc=$?
    set -e
    # A target that fails on a seed prints no coverage line: grep then finds nothing, which
    # must not end the script (set -e) before the input is kept as a regression.
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    edges=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
    features=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
    found=$(find "$artifacts" -type f | wc -l)
    summary+=("$(printf '%-12s execs %-9s edges %-6s features %-6s crashes %s' "$t" "${execs:-?}" "${edges:-?}" "${features:-?}" "$found")")
    if [ "$found" -gt 0 ] || [ $rc -ne 0 ]; then
        mkdir -p "$regressions/$t"
        for f in "$artifacts"*; do
            [ -f "$f" ] || continue
            cp "$f" "$regressions/$t/$(basename "$f")"
            echo "fuzz.sh: $t: new regression $regressions/$t/$(basename "$f")" >&2
        done
        echo "fuzz.sh: $t failed (exit $rc); log: $log" >&2
        grep -m1 -A12 'ERROR\|oracle failed\|runtime error' "$log" >&2 || true
        failed=1
    fi
done

[ ${#summary[@]} -gt 0 ] && printf '%s\n' "${summary[@]}"
exit $failed
