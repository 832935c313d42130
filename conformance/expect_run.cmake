# A test of the runner's verdicts (cmake -P): run vdsoconf with ARGS and
# pass only if it exits with RC and its output (stdout and stderr) matches
# every regular expression in MATCH and none in NOMATCH; with FILE, that
# file too must match every expression in FILE_MATCH. PRE, if given, is a
# command run first (e.g. elfgen writing the image a test needs). Lists
# are '|'-separated (ctest would split ';').
#   cmake -DVDSOCONF=path "-DARGS=--target|ref|..." -DRC=0 "-DMATCH=re|re"
#         ["-DNOMATCH=re|re"] ["-DPRE=cmd|arg"] [-DFILE=f "-DFILE_MATCH=re"]
#         -P expect_run.cmake
cmake_minimum_required(VERSION 3.25)

foreach(v VDSOCONF ARGS RC)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "expect_run.cmake: -D${v}= is required")
  endif()
endforeach()
foreach(v ARGS MATCH NOMATCH PRE FILE_MATCH)
  string(REPLACE "|" ";" ${v} "${${v}}")
endforeach()
if(PRE)
  execute_process(COMMAND ${PRE} RESULT_VARIABLE prc)
  if(NOT prc EQUAL 0)
    message(FATAL_ERROR "expect_run.cmake: ${PRE} failed (${prc})")
  endif()
endif()
execute_process(COMMAND ${VDSOCONF} ${ARGS} OUTPUT_VARIABLE out ERROR_VARIABLE err
                RESULT_VARIABLE rc)
set(all "${out}\n${err}")
set(bad "")
if(NOT rc STREQUAL RC)
  string(APPEND bad "exit ${rc}, expected ${RC}; ")
endif()
foreach(re ${MATCH})
  if(NOT all MATCHES "${re}")
    string(APPEND bad "no match for /${re}/; ")
  endif()
endforeach()
foreach(re ${NOMATCH})
  if(all MATCHES "${re}")
    string(APPEND bad "unexpected match for /${re}/; ")
  endif()
endforeach()
if(FILE)
  file(READ ${FILE} content)
  foreach(re ${FILE_MATCH})
    if(NOT content MATCHES "${re}")
      string(APPEND bad "${FILE}: no match for /${re}/; ")
    endif()
  endforeach()
endif()
if(bad)
  message("${all}")
  message(FATAL_ERROR "vdsoconf ${ARGS}: ${bad}")
endif()
message(STATUS "vdsoconf ${ARGS}: exit ${rc} as expected")
