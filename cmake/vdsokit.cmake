# Per-target build flags and test registration for vdsokit.
#
# vdsokit_target(T) gives a target the project's warnings and the
# sanitizer/coverage instrumentation chosen by the preset. Everything goes on
# the target so that try_compile checks and the freestanding vDSO image are
# never instrumented.

function(vdsokit_target tgt)
  target_compile_options(${tgt} PRIVATE -Wall -Wextra -Wshadow -Wstrict-prototypes
                                        -Wmissing-prototypes -Wno-unused-parameter)
  if(VDSOKIT_WERROR)
    target_compile_options(${tgt} PRIVATE -Werror)
  endif()
  if(VDSOKIT_SANITIZE STREQUAL "asan")
    set(_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
    if(CMAKE_C_COMPILER_ID MATCHES "Clang")
      list(APPEND _san -fsanitize=alignment)
    endif()
    target_compile_options(${tgt} PRIVATE ${_san})
    target_link_options(${tgt} PRIVATE ${_san})
  elseif(VDSOKIT_SANITIZE STREQUAL "tsan")
    target_compile_options(${tgt} PRIVATE -fsanitize=thread -fno-omit-frame-pointer)
    target_link_options(${tgt} PRIVATE -fsanitize=thread)
  elseif(NOT VDSOKIT_SANITIZE STREQUAL "none")
    message(FATAL_ERROR "VDSOKIT_SANITIZE must be none, asan or tsan")
  endif()
  if(VDSOKIT_COVERAGE)
    target_compile_options(${tgt} PRIVATE -fprofile-instr-generate -fcoverage-mapping)
    target_link_options(${tgt} PRIVATE -fprofile-instr-generate)
  endif()
endfunction()

# Environment every test runs with: sanitizers abort loudly.
set(VDSOKIT_TEST_ENV
    "ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:strict_string_checks=1"
    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
    "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1")

# vdsokit_add_test(NAME n COMMAND cmd... LABELS l... TIMEOUT s [FIXTURES_REQUIRED f...])
function(vdsokit_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT;SKIP_RETURN_CODE" "COMMAND;LABELS;FIXTURES_REQUIRED;FIXTURES_SETUP;DEPENDS" ${ARGN})
  if(NOT T_TIMEOUT)
    message(FATAL_ERROR "test ${T_NAME}: every test needs a TIMEOUT")
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_COMMAND})
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}"
                                            ENVIRONMENT "${VDSOKIT_TEST_ENV}")
  if(T_SKIP_RETURN_CODE)
    set_tests_properties(${T_NAME} PROPERTIES SKIP_RETURN_CODE ${T_SKIP_RETURN_CODE})
  endif()
  if(T_FIXTURES_REQUIRED)
    set_tests_properties(${T_NAME} PROPERTIES FIXTURES_REQUIRED "${T_FIXTURES_REQUIRED}")
  endif()
  if(T_FIXTURES_SETUP)
    set_tests_properties(${T_NAME} PROPERTIES FIXTURES_SETUP "${T_FIXTURES_SETUP}")
  endif()
endfunction()

# vdsokit_unit_test(name SOURCES ... [LIBS ...] [TIMEOUT s] [LABELS ...])
# A unit test program built from impl/tests; exit 77 means SKIP.
function(vdsokit_unit_test name)
  cmake_parse_arguments(U "" "TIMEOUT" "SOURCES;LIBS;LABELS;ARGS;FIXTURES_REQUIRED" ${ARGN})
  add_executable(${name} ${U_SOURCES})
  vdsokit_target(${name})
  target_link_libraries(${name} PRIVATE ${U_LIBS})
  if(NOT U_TIMEOUT)
    set(U_TIMEOUT 120)
  endif()
  if(NOT U_LABELS)
    set(U_LABELS unit)
  endif()
  vdsokit_add_test(NAME ${name} COMMAND ${name} ${U_ARGS} LABELS ${U_LABELS}
                   TIMEOUT ${U_TIMEOUT} SKIP_RETURN_CODE 77
                   FIXTURES_REQUIRED ${U_FIXTURES_REQUIRED})
endfunction()
