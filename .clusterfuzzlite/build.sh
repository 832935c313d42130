#!/bin/bash -eu
# ClusterFuzzLite/OSS-Fuzz build entry point: everything is in the
# repository's own recipe, which honours CC, CFLAGS, LIB_FUZZING_ENGINE,
# SRC and OUT as the base-builder image sets them.
cd "$SRC/vdsokit"
ci/build-fuzzers.sh
