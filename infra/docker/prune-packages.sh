#!/bin/sh
# Removes from an installed virtualenv what the running platform never loads: the test suites
# that numpy, scipy and numba ship inside their wheels (about 30 MB), and the static symbol
# table of llvmlite's LLVM library (about 19 MB; `strip --strip-unneeded` keeps the dynamic
# symbols that ctypes looks up). Run by the Dockerfile's build stage and by
# bench/runtime_image.py, so that the bench weighs what the image holds.
#   infra/docker/prune-packages.sh <site-packages directory>
set -eu
site="$1"
for package in numpy scipy numba; do
    [ -d "$site/$package" ] || { echo "prune-packages: $package is not in $site" >&2; exit 1; }
    find "$site/$package" -type d -name tests -prune -exec rm -rf {} +
done
strip --strip-unneeded "$site/llvmlite/binding/libllvmlite.so"
