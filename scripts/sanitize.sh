#!/usr/bin/env bash
# The codec and kernel tests (ImageCoreTests: CPNG, CCodecs and CKernels through their Swift
# callers, and the fuzz regressions) against a build with AddressSanitizer and
# UndefinedBehaviorSanitizer (issue 22). An out-of-bounds read
# or write, a use after free, a signed overflow or a misaligned load in a C door or a kernel
# fails the run. Its own scratch path, so the ordinary build is untouched.
#
#   scripts/sanitize.sh                 build .build-asan and run ImageCoreTests under it
#   scripts/sanitize.sh --filter NAME   a narrower set (swift test's --filter)
set -euo pipefail
cd "$(dirname "$0")/.."
filter=ImageCoreTests
if [ "${1:-}" = "--filter" ]; then filter=$2; fi
# swiftc has no UBSan: ASan everywhere, UBSan on the C targets (the ASan runtime swiftc
# links carries UBSan's handlers); no recovery, so a report fails the test.
sanitizers=(--sanitize=address -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined)
# Any report ends the process with a failure; leak checking stays on for the C doors.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Swift's backtracer and ASan's abort met in a nested fault and the test process spun at 50% of
# a core for 15 minutes instead of exiting: ASan's report is the one wanted.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
# Foundation's own leaks (not bandsaw's) are suppressed by library name.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan-suppressions.txt:print_suppressions=0}
swift build --build-tests "${sanitizers[@]}" --scratch-path .build-asan
# The test bundle is run directly: `swift test --sanitize=address` sat at "Planning build" for
# 25 minutes here without starting a test, where the bundle itself runs them at once.
bundle=$(swift build --show-bin-path "${sanitizers[@]}" --scratch-path .build-asan)/bandsawPackageTests.xctest
"$bundle" --testing-library swift-testing --filter "$filter"
