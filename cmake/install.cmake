# What `cmake --install` puts where (GNU layout under the prefix):
#   bin/                 the tools of VDSOKIT_INSTALL_TOOLS that this build has
#   lib/                 libvdsokit_elf.a and libvdsokit_elf.so.* (the resolver)
#   include/vdsokit/     its public headers and the vdsokit_abi headers they include
#   lib/cmake/vdsokit/   the CMake package: vdsokit::elf (shared), vdsokit::elf_static
#   lib/pkgconfig/       vdsokit-elf.pc
#   share/vdsokit/       waivers.txt, the project's waiver file
#   share/man/man1/      the tools' man pages (docs/man)
# Included last from the top-level CMakeLists, when every target exists.
# The package and the .pc file are relocatable: they find the prefix from
# their own location, so `--prefix` at install time works.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(VDSOKIT_INSTALL_TOOLS vdsoconf vdsoconf-static vdsoimg vdsoimg-static)
# vdsokit_abi headers included by the installed elf headers (error.h only:
# the resolver's API needs no ABI struct).
set(VDSOKIT_INSTALL_ABI_HEADERS error.h)

foreach(tool ${VDSOKIT_INSTALL_TOOLS})
  if(TARGET ${tool})
    install(TARGETS ${tool} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

install(TARGETS vdsokit_elf vdsokit_elf_shared vdsokit_abi EXPORT vdsokitTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_COMPONENT Unspecified
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${VDSOKIT_ELF_PUBLIC_HEADERS} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/vdsokit)
foreach(h ${VDSOKIT_INSTALL_ABI_HEADERS})
  install(FILES ${PROJECT_SOURCE_DIR}/impl/include/vdsokit/${h}
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/vdsokit)
endforeach()

set(_cmakedir ${CMAKE_INSTALL_LIBDIR}/cmake/vdsokit)
install(EXPORT vdsokitTargets NAMESPACE vdsokit:: DESTINATION ${_cmakedir})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/vdsokitConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/vdsokitConfig.cmake
                              INSTALL_DESTINATION ${_cmakedir})
# 0.x: only the same minor version is compatible (the SONAME says the same).
write_basic_package_version_file(${CMAKE_BINARY_DIR}/vdsokitConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/vdsokitConfig.cmake ${CMAKE_BINARY_DIR}/vdsokitConfigVersion.cmake
        DESTINATION ${_cmakedir})

file(RELATIVE_PATH VDSOKIT_PC_UP /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
string(REGEX REPLACE "/$" "" VDSOKIT_PC_UP "${VDSOKIT_PC_UP}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/vdsokit-elf.pc.in ${CMAKE_BINARY_DIR}/vdsokit-elf.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/vdsokit-elf.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES ${PROJECT_SOURCE_DIR}/conformance/waivers.txt
        DESTINATION ${CMAKE_INSTALL_DATADIR}/vdsokit)
file(GLOB _man_pages ${PROJECT_SOURCE_DIR}/docs/man/*.1)
install(FILES ${_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
