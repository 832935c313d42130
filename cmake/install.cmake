# What `cmake --install` puts where (GNU layout under the prefix):
#   bin/                 the tools of VDSOKIT_INSTALL_TOOLS that this build has
#   lib/                 libvdsokit_elf.a and libvdsokit_elf.so.* (the resolver)
#   include/vdsokit/     its public headers and the vdsokit_abi headers they include
#   lib/cmake/vdsokit/   the CMake package: vdsokit::elf (shared), vdsokit::elf_static
#   lib/pkgconfig/       vdsokit-elf.pc
#   share/vdsokit/       waivers.txt, the project's waiver file
#   share/man/man1/      the tools' man pages (docs/man); each -static tool's
#                        name is a link to its tool's page
# Each rule names its component, which is the Debian package it goes to
# (cmake/package.cmake): tools (the tools, their pages, the waiver file),
# lib (the shared library's versioned files) and dev (headers, the static
# library, the .so link, the CMake package and the .pc). A plain
# `cmake --install` installs all three.
# Included last from the top-level CMakeLists, when every target exists.
# The package and the .pc file are relocatable: they find the prefix from
# their own location, so `--prefix` at install time works (the .pc unless
# VDSOKIT_PC_RELOCATABLE is off, as for the Debian packages).

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(VDSOKIT_INSTALL_TOOLS vdsoconf vdsoconf-static vdsoimg vdsoimg-static)
# vdsokit_abi headers included by the installed elf headers (error.h only:
# the resolver's API needs no ABI struct).
set(VDSOKIT_INSTALL_ABI_HEADERS error.h)

# vdsokit_installed builds just what is installed (the package preset's
# build target; the tests are not needed to package).
add_custom_target(vdsokit_installed)
add_dependencies(vdsokit_installed vdsokit_elf vdsokit_elf_shared)
foreach(tool ${VDSOKIT_INSTALL_TOOLS})
  if(TARGET ${tool})
    install(TARGETS ${tool} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
    add_dependencies(vdsokit_installed ${tool})
  endif()
endforeach()

install(TARGETS vdsokit_elf vdsokit_elf_shared vdsokit_abi EXPORT vdsokitTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${VDSOKIT_ELF_PUBLIC_HEADERS} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/vdsokit
        COMPONENT dev)
foreach(h ${VDSOKIT_INSTALL_ABI_HEADERS})
  install(FILES ${PROJECT_SOURCE_DIR}/impl/include/vdsokit/${h}
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/vdsokit COMPONENT dev)
endforeach()

set(_cmakedir ${CMAKE_INSTALL_LIBDIR}/cmake/vdsokit)
install(EXPORT vdsokitTargets NAMESPACE vdsokit:: DESTINATION ${_cmakedir} COMPONENT dev)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/vdsokitConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/vdsokitConfig.cmake
                              INSTALL_DESTINATION ${_cmakedir})
# 0.x: only the same minor version is compatible (the SONAME says the same).
write_basic_package_version_file(${CMAKE_BINARY_DIR}/vdsokitConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/vdsokitConfig.cmake ${CMAKE_BINARY_DIR}/vdsokitConfigVersion.cmake
        DESTINATION ${_cmakedir} COMPONENT dev)

# A distribution's package (the `package` preset) turns this off: its tree
# never moves, and pkg-config drops -I/usr/include and -L of the system
# libdir only when they are written plainly, not as ${pcfiledir}/../..
option(VDSOKIT_PC_RELOCATABLE "vdsokit-elf.pc finds its prefix from its own location" ON)
if(VDSOKIT_PC_RELOCATABLE)
  file(RELATIVE_PATH _up /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
  string(REGEX REPLACE "/$" "" _up "${_up}")
  set(VDSOKIT_PC_PREFIX "\${pcfiledir}/${_up}")
else()
  set(VDSOKIT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/vdsokit-elf.pc.in ${CMAKE_BINARY_DIR}/vdsokit-elf.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/vdsokit-elf.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT dev)

install(FILES ${PROJECT_SOURCE_DIR}/conformance/waivers.txt
        DESTINATION ${CMAKE_INSTALL_DATADIR}/vdsokit COMPONENT tools)
file(GLOB _man_pages ${PROJECT_SOURCE_DIR}/docs/man/*.1)
install(FILES ${_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tools)
# `man vdsoconf-static` opens vdsoconf(1), whose NAME lists both.
foreach(tool vdsoconf vdsoimg)
  if(TARGET ${tool}-static)
    install(CODE "file(CREATE_LINK ${tool}.1
                  \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_MANDIR}/man1/${tool}-static.1\"
                  SYMBOLIC)" COMPONENT tools)
  endif()
endforeach()
