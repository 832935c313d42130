# The AFL++ custom-mutator libraries and the mutators' self-test.
#
# afl-fuzz dlopen()s the libraries into itself, so they are built with a
# plain compiler -- no sanitizers, no AFL instrumentation -- by a custom
# command rather than as targets that would inherit the preset's flags.
set(_mut_dir ${CMAKE_CURRENT_LIST_DIR})
if(VDSOKIT_FUZZ_ENGINE MATCHES "^(afl|ossfuzz)$" OR NOT CMAKE_C_COMPILER_ID MATCHES "Clang|GNU")
  find_program(VDSOKIT_PLAIN_CC NAMES clang-14 clang gcc cc REQUIRED)
else()
  set(VDSOKIT_PLAIN_CC ${CMAKE_C_COMPILER})
endif()

# vdsokit_afl_mutator(name entry_function core_sources...)
function(vdsokit_afl_mutator name entry)
  set(_so ${CMAKE_CURRENT_BINARY_DIR}/${name}.so)
  set(_sources ${_mut_dir}/afl_mutator.c ${_mut_dir}/mut_bytes.c ${ARGN})
  add_custom_command(OUTPUT ${_so}
    COMMAND ${CMAKE_COMMAND} -E env AFL_QUIET=1
            ${VDSOKIT_PLAIN_CC} -std=gnu11 -O2 -g -fPIC -shared -Wall -Wextra -Werror
            -DAFL_MUTATE=${entry} -I${_mut_dir} -o ${_so} ${_sources}
    DEPENDS ${_sources} ${_mut_dir}/mutator_rng.h
    COMMENT "AFL++ custom mutator ${name}.so" VERBATIM)
  add_custom_target(${name} ALL DEPENDS ${_so})
  add_dependencies(fuzzers ${name})
endfunction()

vdsokit_afl_mutator(afl_elf_mutator elf_mutate ${_mut_dir}/elf_mutator.c)
if(EXISTS ${_mut_dir}/ops_mutator.c)
  vdsokit_afl_mutator(afl_ops_mutator ops_mutate ${_mut_dir}/ops_mutator.c)
endif()

# Self-test: the cores stay in bounds under the sanitizers, keep most
# mutants of the seeds acceptable to the resolver (structure preserved) and
# keep op streams in a known format.
add_executable(fuzz_mutator_selftest ${_mut_dir}/mutator_selftest.c ${_mut_dir}/mut_bytes.c
                                     ${_mut_dir}/elf_mutator.c ${_mut_dir}/ops_mutator.c)
vdsokit_target(fuzz_mutator_selftest)
target_include_directories(fuzz_mutator_selftest PRIVATE ${_mut_dir} ${PROJECT_SOURCE_DIR}/impl/tests)
target_link_libraries(fuzz_mutator_selftest PRIVATE vdsokit)
file(GLOB _elf_seeds CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/corpora/fuzz_elf/seed-*)
list(SORT _elf_seeds)
if(_elf_seeds)
  vdsokit_add_test(NAME fuzz-mutator-selftest COMMAND fuzz_mutator_selftest ${_elf_seeds}
                   LABELS unit TIMEOUT 300)
endif()
