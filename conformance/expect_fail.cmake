# A test of the tests (cmake -P): run vdsoconf on a deliberately broken
# target and pass only if the run fails (exit 1) AND the named test is
# reported FAIL in the TAP stream (not waived, not skipped):
#   cmake -DVDSOCONF=path -DTARGET=image:x.so -DONLY=pattern -DEXPECT=test.id
#         [-DWAIVERS=file] -P expect_fail.cmake
cmake_minimum_required(VERSION 3.25)

foreach(v VDSOCONF TARGET ONLY EXPECT)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "expect_fail.cmake: -D${v}= is required")
  endif()
endforeach()
set(_waivers "")
if(WAIVERS)
  set(_waivers --waivers ${WAIVERS})
endif()
execute_process(COMMAND ${VDSOCONF} --target ${TARGET} --only ${ONLY} --tap ${_waivers}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
# EXPECT is a test id, or a prefix ending in '*' (any test of a group).
string(REPLACE "." "\\." _id "${EXPECT}")
string(REGEX REPLACE "\\*$" "[^ \n]*" _id "${_id}")
set(_failed FALSE)
# A plain "not ok" line (a waived one carries "# TODO").
if("${out}\n" MATCHES "\nnot ok [0-9]+ - [^ \n]+ ${_id}\n")
  set(_failed TRUE)
endif()
if(NOT rc EQUAL 1 OR NOT _failed)
  message("${err}")
  message(FATAL_ERROR "${TARGET}: expected exit 1 with ${EXPECT} FAIL; got exit ${rc}, "
                      "${EXPECT} reported FAIL: ${_failed}. The suite did not catch this mutant.")
endif()
message(STATUS "${TARGET}: caught: exit 1, ${EXPECT} FAIL")
