# The version the tools print for --version: the project version and, in a
# git checkout, `git describe --always --dirty` taken on every build (a
# tarball build prints just the version). cmake/version-header.cmake writes
# <build>/generated/vdsokit/version.h only when its text changes, so a build
# with nothing new recompiles nothing. vdsokit_versioned(T) lets target T
# include <vdsokit/version.h>.

find_program(VDSOKIT_GIT git)
set(VDSOKIT_VERSION_HEADER ${CMAKE_BINARY_DIR}/generated/vdsokit/version.h)
add_custom_target(vdsokit_version_header
  BYPRODUCTS ${VDSOKIT_VERSION_HEADER}
  COMMAND ${CMAKE_COMMAND} -DSRC=${PROJECT_SOURCE_DIR} -DOUT=${VDSOKIT_VERSION_HEADER}
          -DVERSION=${PROJECT_VERSION} -DGIT=${VDSOKIT_GIT}
          -P ${CMAKE_CURRENT_LIST_DIR}/version-header.cmake
  COMMENT "" VERBATIM)

function(vdsokit_versioned tgt)
  add_dependencies(${tgt} vdsokit_version_header)
  target_include_directories(${tgt} PRIVATE ${CMAKE_BINARY_DIR}/generated)
endfunction()
