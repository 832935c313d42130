# Tests of the fuzzer (replay engine only): fuzz_vvar linked against hosted
# builds of the reference with one deliberate defect each (the patches
# conformance/mutants/<name>.patch, applied to a build-tree copy of
# impl/vdso; a patch that no longer applies fails the build). Replaying the
# committed corpora/fuzz_vvar/ must fail (an invariant aborts) for every one.
# Included from fuzz/CMakeLists.txt.
if(VDSOKIT_FUZZ_ENGINE STREQUAL "replay" AND BUILD_TESTING AND TARGET fuzz_vvar
   AND COMMAND vdsokit_vdso_hosted_library)
  file(GLOB _vvar_inputs CONFIGURE_DEPENDS ${CORPORA_DIR}/fuzz_vvar/*)
  list(SORT _vvar_inputs)
  # C1 no seq retry, C2 odd seq not waited on, C8 no clamp, C9 no 128-bit
  # path, C12 tv_nsec not normalised.
  foreach(_name no_retry odd_seq no_clamp no_wide_mul no_normalise)
    set(_src ${CMAKE_CURRENT_BINARY_DIR}/mutant-src/${_name})
    vdsokit_vdso_patched_sources(DIR ${_src}
                                 PATCH ${PROJECT_SOURCE_DIR}/conformance/mutants/${_name}.patch)
    vdsokit_vdso_hosted_library(vdsokit_vdso_hosted_mutant_${_name} SOURCE_DIR ${_src})
    add_executable(fuzz_vvar_mutant_${_name} ${FUZZ_DIR}/fuzz_vvar.c ${FUZZ_DIR}/vvar_ops.c
                   ${FUZZ_DIR}/fuzz_common.c ${FUZZ_DIR}/replay_main.c)
    vdsokit_target(fuzz_vvar_mutant_${_name})
    target_include_directories(fuzz_vvar_mutant_${_name} PRIVATE ${FUZZ_DIR} ${FUZZ_DIR}/mutators)
    target_compile_definitions(fuzz_vvar_mutant_${_name}
                               PRIVATE FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION=1)
    target_link_libraries(fuzz_vvar_mutant_${_name}
                          PRIVATE vdsokit vdsokit_vdso_hosted_mutant_${_name})
    if(_vvar_inputs)
      # The replay must stop on a broken invariant (fuzz_fail aborts): a
      # non-zero exit with the harness's evidence, not a clean run and not
      # some other crash.
      vdsokit_add_test(NAME fuzz-regression-mutant-${_name}
                       COMMAND sh -c "out=$(\"$0\" \"$@\" 2>&1) || : && printf '%s\\n' \"$out\" | tail -n 30 && printf '%s\\n' \"$out\" | grep -q 'INVARIANT BROKEN'"
                               $<TARGET_FILE:fuzz_vvar_mutant_${_name}> ${_vvar_inputs}
                       LABELS fuzz-regression TIMEOUT 600)
    endif()
  endforeach()
endif()
