# A patched copy of the reference vDSO sources (cmake -P), the build step of
# vdsokit_vdso_patched_sources() in CMakeLists.txt:
#   cmake -DFROM=<impl/vdso> -DTO=<dir> -DFILES=<f1,f2,...> -DPATCH=<file.patch>
#         -DPATCH_TOOL=<patch> -P patch_sources.cmake
# Recreates TO from FROM (FILES, relative to both), then applies PATCH there
# with -p1 and no fuzz: every context line must still match the reference,
# only the line offsets may move. Anything else fails, naming the patch,
# so a defect injected by a patch cannot silently stop being injected.
cmake_minimum_required(VERSION 3.25)

foreach(v FROM TO FILES PATCH PATCH_TOOL)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "patch_sources.cmake: -D${v}= is required")
  endif()
endforeach()
string(REPLACE "," ";" _files "${FILES}")

file(REMOVE_RECURSE ${TO})
foreach(f ${_files})
  get_filename_component(_sub ${TO}/${f} DIRECTORY)
  file(MAKE_DIRECTORY ${_sub})
  file(COPY_FILE ${FROM}/${f} ${TO}/${f})
endforeach()

execute_process(COMMAND ${PATCH_TOOL} -p1 --fuzz=0 --batch --forward --no-backup-if-mismatch
                        --reject-file=- --directory ${TO} --input ${PATCH}
                OUTPUT_VARIABLE _out ERROR_VARIABLE _out RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  file(REMOVE_RECURSE ${TO})
  message(FATAL_ERROR "${PATCH} no longer applies to the reference sources in ${FROM} "
                      "(patch -p1 --fuzz=0 exited ${_rc}); refresh it against them:\n${_out}")
endif()

# Every file is an output of this step: none may look older than its input.
foreach(f ${_files})
  file(TOUCH ${TO}/${f})
endforeach()
