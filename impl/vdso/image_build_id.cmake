# The build-id of a vDSO image as a linker option (cmake -P):
#   cmake -DIMAGE=<linked without debug info> -DREADELF=readelf -DOUT=<file.rsp>
#         -P image_build_id.cmake
# Writes "-Wl,--build-id=0x<hex>" (IMAGE's GNU build-id) to OUT, a compiler
# response file for the final link. The image recipe links once without
# debug info to hash only what ships (code, data, symbols), then links the
# debug image with that id, so the id does not change with source line
# numbers or the build directory, and the stripped image and its .dbg still
# carry the same id for gdb to pair them.
cmake_minimum_required(VERSION 3.25)

if(NOT IMAGE OR NOT READELF OR NOT OUT)
  message(FATAL_ERROR "usage: cmake -DIMAGE=file -DREADELF=readelf -DOUT=file -P image_build_id.cmake")
endif()
execute_process(COMMAND ${READELF} -nW ${IMAGE}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "Build ID: ([0-9a-f]+)")
  message(FATAL_ERROR "${IMAGE}: no GNU build-id note (readelf exited ${rc}): ${err}")
endif()
file(WRITE ${OUT} "-Wl,--build-id=0x${CMAKE_MATCH_1}\n")
