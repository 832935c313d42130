# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS, cmake/package.cmake): runs
# after the install rules have staged each component under
# <CPACK_TEMPORARY_DIRECTORY>/<component>/ and before the .deb files are
# made, and finishes each staged tree as Debian policy asks of a binary
# package: objects stripped as dh_strip does (CPACK_STRIP_FILES has stripped
# the programs and the shared library; the static library keeps its symbols
# but loses its debug info, which would carry build-tree paths), man pages
# compressed with `gzip -9n` (links renamed to match), and
# /usr/share/doc/<package>/ holding copyright and a changelog.gz; the
# library package gets its lintian overrides. It adds nothing a plain
# `cmake --install` would want.

find_program(GZIP gzip REQUIRED)
find_program(STRIP strip REQUIRED)
string(TIMESTAMP _date "%a, %d %b %Y %H:%M:%S +0000" UTC)

function(deb_run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "package-debian: ${ARGN} failed (${rc})")
  endif()
endfunction()

# gzip -9n FILE in place; -n leaves the name and time out, so the bytes
# depend only on the content.
function(deb_gzip file)
  deb_run(${GZIP} -9nf "${file}")
endfunction()

# .comment (the compiler's name) is of no use at run time.
function(deb_strip root)
  file(GLOB_RECURSE objects LIST_DIRECTORIES false "${root}/usr/bin/*" "${root}/usr/lib/*.a"
       "${root}/usr/lib/*.so.*")
  foreach(o ${objects})
    if(IS_SYMLINK "${o}")
      continue()
    elseif(o MATCHES "\\.a$")
      deb_run(${STRIP} --strip-debug --enable-deterministic-archives --remove-section=.comment
              "${o}")
    else()
      deb_run(${STRIP} --remove-section=.comment --remove-section=.note "${o}")
    endif()
  endforeach()
endfunction()

function(deb_compress_man_pages root)
  file(GLOB_RECURSE pages LIST_DIRECTORIES false "${root}/usr/share/man/man*/*")
  foreach(page ${pages})
    if(IS_SYMLINK "${page}")
      file(READ_SYMLINK "${page}" target)
      file(REMOVE "${page}")
      file(CREATE_LINK "${target}.gz" "${page}.gz" SYMBOLIC)
    elseif(NOT page MATCHES "\\.gz$")
      deb_gzip("${page}")
    endif()
  endforeach()
endfunction()

function(deb_doc root package)
  set(doc "${root}/usr/share/doc/${package}")
  file(MAKE_DIRECTORY "${doc}")
  configure_file("${CMAKE_CURRENT_LIST_DIR}/debian/copyright" "${doc}/copyright" @ONLY)
  # A native package: one entry, this build.
  file(WRITE "${doc}/changelog"
       "${package} (${CPACK_PACKAGE_VERSION}) unstable; urgency=medium\n\n"
       "  * Built by CPack from vdsokit ${CPACK_PACKAGE_VERSION}.\n\n"
       " -- ${CPACK_PACKAGE_CONTACT}  ${_date}\n")
  deb_gzip("${doc}/changelog")
  file(CHMOD "${doc}/copyright" "${doc}/changelog.gz" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endfunction()

foreach(component ${CPACK_COMPONENTS_ALL})
  string(TOUPPER "${component}" c)
  set(root "${CPACK_TEMPORARY_DIRECTORY}/${component}")
  if(NOT IS_DIRECTORY "${root}/usr")
    message(FATAL_ERROR "package-debian: no staged tree at ${root}/usr")
  endif()
  deb_strip("${root}")
  deb_compress_man_pages("${root}")
  deb_doc("${root}" "${CPACK_DEBIAN_${c}_PACKAGE_NAME}")
endforeach()

set(_overrides "${CPACK_TEMPORARY_DIRECTORY}/lib/usr/share/lintian/overrides")
file(MAKE_DIRECTORY "${_overrides}")
file(COPY_FILE "${CMAKE_CURRENT_LIST_DIR}/debian/lintian-overrides"
     "${_overrides}/${CPACK_DEBIAN_LIB_PACKAGE_NAME}")
