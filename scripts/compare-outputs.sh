#!/usr/bin/env bash
# Runs two bandsaw executables over the same work and compares what they write, byte for byte:
# the check that a change which should alter no behaviour (a refactor) really altered none.
#
#   scripts/compare-outputs.sh OLD NEW
#
# What runs, each with OLD and NEW, in separate folders with the same relative paths:
#   - every good fixture in Tests/Fixtures x every filter of `bandsaw ops` x every output
#     format (.png .jpg .tif .webp .pnm), on one rank;
#   - every good fixture, as one folder launch per filter, under mpirun -np 3;
#   - every good fixture x every output format under mpirun -np 3 (one filter: gaussian);
#   - the other ways in and out on 3 ranks: --encode serial, --decode whole, --io mpiio;
#   - every bad fixture on 1 and 3 ranks: the exit code and stderr must match;
#   - `bandsaw ops` and `ops --json`, and the key structure of the `--json` report.
# For each run the exit status, stdout (timing tables are turned off with --quiet) and stderr
# must be the same, and every file written must be identical. Prints one line per difference
# and a summary; exits 1 when anything differs, 0 when nothing does.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 OLD-BANDSAW NEW-BANDSAW" >&2
    exit 2
fi
old=$(realpath "$1")
new=$(realpath "$2")
root=$(cd "$(dirname "$0")/.." && pwd)
fixtures="$root/Tests/Fixtures"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl="${OMPI_MCA_btl:-self,vader,tcp}"

work=$(mktemp -d /tmp/bandsaw-compare.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/old" "$work/new" "$work/ompi"
# Open MPI's session folders of these runs, apart from every other MPI job on the machine: a
# shared /tmp/ompi.<host>.<uid> is created and removed by them all, and a singleton rank that
# loses that race fails in MPI_Init, which would show here as a difference that is not one.
export OMPI_MCA_orte_tmpdir_base="$work/ompi"

mapfile -t good < <(cd "$fixtures" && find variants photos -type f \( -name '*.png' -o -name '*.p[gp]m' \) | sort)
mapfile -t bad < <(cd "$fixtures" && find bad -type f | sort)
mapfile -t filters < <("$old" ops --json | python3 -c 'import json, sys; print("\n".join(f["name"] for f in json.load(sys.stdin)))')
formats=(png jpg tif webp pnm)

runs=0
differences=0

# run SIDE-LABEL RANKS ARGS...: runs one side in its folder; records status, stdout, stderr.
run_side() {
    local side=$1 label=$2 ranks=$3
    shift 3
    local exe
    exe=$([[ $side == old ]] && echo "$old" || echo "$new")
    local dir="$work/$side"
    local status=0
    if [[ $ranks == 1 ]]; then
        (cd "$dir" && "$exe" "$@") >"$dir/$label.stdout" 2>"$dir/$label.stderr" || status=$?
    else
        (cd "$dir" && mpirun -q --oversubscribe --bind-to none -np "$ranks" "$exe" "$@") \
            >"$dir/$label.stdout" 2>"$dir/$label.stderr" || status=$?
    fi
    echo "$status" >"$dir/$label.status"
}

# compare LABEL RANKS ARGS...: runs both sides and compares everything they produced.
compare() {
    local label=$1
    shift
    run_side old "$label" "$@"
    run_side new "$label" "$@"
    runs=$((runs + 1))
    local what
    for what in status stdout stderr; do
        if ! cmp -s "$work/old/$label.$what" "$work/new/$label.$what"; then
            echo "DIFFERENT $what: $label (ranks $1: ${*:2})"
            diff <(head -c 2000 "$work/old/$label.$what") <(head -c 2000 "$work/new/$label.$what") | head -6 || true
            differences=$((differences + 1))
        fi
    done
}

# out-of-run files: every file under out/ must be the same on both sides.
compare_files() {
    local listing
    listing=$(diff <(cd "$work/old" && find out -type f | sort) <(cd "$work/new" && find out -type f | sort) || true)
    if [[ -n $listing ]]; then
        echo "DIFFERENT file lists:"
        echo "$listing" | head -20
        differences=$((differences + 1))
    fi
    local file files=0
    while IFS= read -r file; do
        files=$((files + 1))
        if ! cmp -s "$work/old/$file" "$work/new/$file"; then
            echo "DIFFERENT bytes: $file"
            differences=$((differences + 1))
        fi
    done < <(cd "$work/old" && find out -type f | sort)
    echo "compared $files output files"
}

safe() { echo "$1" | tr '/:=,' '____'; }

echo "old: $old"
echo "new: $new"
echo "${#good[@]} good fixtures, ${#bad[@]} bad, ${#filters[@]} filters: ${filters[*]}"

for side in old new; do mkdir -p "$work/$side/out/one" "$work/$side/out/folder" "$work/$side/out/three" "$work/$side/out/modes"; done

echo "== one rank: every fixture x filter x format"
for fixture in "${good[@]}"; do
    for filter in "${filters[@]}"; do
        for format in "${formats[@]}"; do
            name="$(safe "$fixture")-$filter.$format"
            compare "one-$name" 1 "$fixtures/$fixture" -o "out/one/$name" --op "$filter" --quiet
        done
    done
done

echo "== three ranks: every filter over every fixture (one folder launch each)"
for filter in "${filters[@]}"; do
    for side in old new; do mkdir -p "$work/$side/out/folder/$filter"; done
    compare "folder-$filter" 3 "${good[@]/#/$fixtures/}" -o "out/folder/$filter" --op "$filter" --quiet
done

echo "== three ranks: every fixture x format"
for fixture in "${good[@]}"; do
    for format in "${formats[@]}"; do
        name="$(safe "$fixture").$format"
        compare "three-$name" 3 "$fixtures/$fixture" -o "out/three/$name" --op gaussian --quiet
    done
done

echo "== three ranks: the other ways in and out"
for fixture in photos/astronaut-256.png variants/rgba8.png variants/gray16.png variants/rgb8-adam7.png; do
    name=$(safe "$fixture")
    compare "serial-$name" 3 "$fixtures/$fixture" -o "out/modes/serial-$name.png" --op sobel --encode serial --quiet
    compare "whole-$name" 3 "$fixtures/$fixture" -o "out/modes/whole-$name.png" --op median --decode whole --quiet
done
for fixture in variants/gray8.pgm variants/rgb8.ppm variants/rgb16.ppm; do
    name=$(safe "$fixture")
    compare "mpiio-$name" 3 "$fixtures/$fixture" -o "out/modes/mpiio-$name.pnm" --op box --io mpiio --quiet
done
# A restart-point PNG written by 3 ranks, then read back by 3 (PNG segments in and out).
compare "restart-write" 3 "$fixtures/photos/coffee-256.png" -o "out/modes/restart.png" --op invert --quiet
compare "restart-read" 3 "out/modes/restart.png" -o "out/modes/restart-sobel.png" --op sobel --quiet

echo "== bad input, 1 and 3 ranks"
for fixture in "${bad[@]}"; do
    name=$(safe "$fixture")
    for ranks in 1 3; do
        compare "bad$ranks-$name" "$ranks" "$fixtures/$fixture" -o "out/bad-$ranks-$name.png" --op sobel --quiet
    done
done

echo "== ops, and the shape of the JSON report"
compare "ops" 1 ops
compare "ops-json" 1 ops --json
for side in old new; do
    exe=$([[ $side == old ]] && echo "$old" || echo "$new")
    (cd "$work/$side" && "$exe" "$fixtures/photos/astronaut-256.png" -o out/report.png --op sobel --json) |
        python3 -c '
import json, sys
def keys(value, prefix=""):
    if isinstance(value, dict):
        for k in sorted(value):
            yield prefix + k
            yield from keys(value[k], prefix + k + ".")
    elif isinstance(value, list):
        for item in value[:1]:
            yield from keys(item, prefix + "[].")
print("\n".join(keys(json.load(sys.stdin))))' >"$work/$side/report-keys"
done
runs=$((runs + 1))
if ! cmp -s "$work/old/report-keys" "$work/new/report-keys"; then
    echo "DIFFERENT JSON report keys:"
    diff "$work/old/report-keys" "$work/new/report-keys" | head -20 || true
    differences=$((differences + 1))
fi

compare_files
echo "$runs runs each side; $differences differences"
[[ $differences -eq 0 ]]
