# shellcheck shell=bash
# Sourced by run.sh and compose-run.sh: the short summary of a folder's batch from bandsaw's
# --report JSON, on stderr, so a local run and a Compose run say the same thing.
#
#   batch_summary REPORT
#
# Prints images/s over the batch and each rank's image count and busy share; nothing for a
# single image (its report has no elapsed_ms).
batch_summary() {
    local report=$1 elapsed images
    elapsed=$(grep -o '"elapsed_ms":[0-9.]*' "$report" 2>/dev/null | cut -d: -f2 || true)
    [ -n "$elapsed" ] || return 0
    images=$(grep -o '"schedule":"\(dealt\|banded\)"' "$report" | wc -l)
    grep -o '"rank_load":\[[^]]*\]' "$report" | grep -o '{[^}]*}' | sed 's/[{}"]//g; s/[a-z_]*://g' \
        | awk -F, -v ms="$elapsed" -v n="$images" '
            { busy[NR] = $1; imgs[NR] = $2 }
            END {
                s = ms / 1000
                printf "batch: %d images in %.2f s, %.1f images/s\n", n, s, (s > 0 ? n / s : 0)
                for (r = 1; r <= NR; r++)
                    printf "  rank %d: %d images, busy %.2f s (%.0f%%)\n", r - 1, imgs[r], busy[r], (s > 0 ? 100 * busy[r] / s : 0)
            }' >&2
}
