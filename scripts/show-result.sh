#!/usr/bin/env bash
# Sourced by run.sh and compose-run.sh: shows a job's result the same way for both.
#
#   show_result OUTPUT PREVIEW_COMMAND...
#
# OUTPUT is a file or a folder (its first image is shown). With a display and xdg-open, the
# desktop's image viewer opens it; otherwise PREVIEW_COMMAND runs with the file appended (a
# terminal preview: `bandsaw view`, locally or inside a container).
show_result() {
    local output=$1 first
    shift
    if [ -d "$output" ]; then
        first=$(find "$output" -maxdepth 1 -type f | sort | head -n 1)
    else
        first=$output
    fi
    [ -n "$first" ] || return 0
    if { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; } && command -v xdg-open >/dev/null; then
        xdg-open "$first" >/dev/null 2>&1 &
    else
        "$@" "$first"
    fi
}
