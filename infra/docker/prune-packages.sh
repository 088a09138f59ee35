#!/bin/sh
# Removes from an installed virtualenv what the running platform never loads. Run by the
# Dockerfile's build stage and by bench/runtime_image.py, so that the bench weighs what the
# image holds (and runs a worker's imports, an alignment and a note transcription in it):
#
# - the test suites that numpy, scipy and numba ship inside their wheels (about 30 MB);
# - the static symbol table of llvmlite's LLVM library (about 19 MB; `strip --strip-unneeded`
#   keeps the dynamic symbols that ctypes looks up);
# - onnxruntime's C API library (libonnxruntime.so, 35 MB), which its Python binding does not
#   load (the binding is linked whole: its only NEEDED libraries are the system's), and its
#   model conversion tools (transformers, quantization, tools, datasets), which
#   `import onnxruntime` does not import;
# - botocore's API models of every AWS service but those the app calls and those its
#   credential chain may call (about 17 MB of 19); BOTOCORE_SERVICES is that list, and
#   tests/infra/test_containers.py checks that every client the code creates is in it;
# - gettext's catalogue sources (*.po, 12 MB: Django reads the compiled *.mo), Cython sources
#   and type stubs (*.pyx, *.pxd, *.pyi), which only compilers and type checkers read.
#
#   infra/docker/prune-packages.sh <site-packages directory>
set -eu
site="$1"
# s3: media; sesv2: email (anymail's SES backend); sns: anymail's webhook confirms the SES
# events subscription; cloudwatch: the queue-depth metric; sts, sso, sso-oidc, signin: the
# credential providers botocore may call.
BOTOCORE_SERVICES="s3 sesv2 sns cloudwatch sts sso sso-oidc signin"

for package in numpy scipy numba onnxruntime botocore; do
    [ -d "$site/$package" ] || { echo "prune-packages: $package is not in $site" >&2; exit 1; }
done
for package in numpy scipy numba; do
    find "$site/$package" -type d -name tests -prune -exec rm -rf {} +
done
strip --strip-unneeded "$site/llvmlite/binding/libllvmlite.so"

rm -f "$site"/onnxruntime/capi/libonnxruntime.so*
rm -rf "$site/onnxruntime/transformers" "$site/onnxruntime/quantization" \
    "$site/onnxruntime/tools" "$site/onnxruntime/datasets"

for service in $BOTOCORE_SERVICES; do
    [ -d "$site/botocore/data/$service" ] || {
        echo "prune-packages: botocore has no model for $service" >&2
        exit 1
    }
done
for model in "$site"/botocore/data/*/; do
    service="$(basename "$model")"
    case " $BOTOCORE_SERVICES " in
        *" $service "*) ;;
        *) rm -rf "$model" ;;
    esac
done

find "$site" -type f \( -name '*.po' -o -name '*.pyx' -o -name '*.pxd' -o -name '*.pyi' \) \
    -delete
