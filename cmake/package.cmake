# The Debian packages, made by CPack's DEB generator from the install rules
# (cmake/install.cmake), one package per install component, as Debian
# splits a library:
#   vdsokit               tools  the tools, their man pages, the waiver file
#   libvdsokit-elf<so>    lib    libvdsokit_elf.so.<so> (named by its SONAME)
#   libvdsokit-elf-dev    dev    headers, libvdsokit_elf.a, the .so link, the
#                                CMake package and vdsokit-elf.pc
# The tools link the resolver statically, so vdsokit needs only libc; the
# dev package needs the library of its exact version. Runtime Depends come
# from dpkg-shlibdeps (dpkg-dev), and the library package ships a shlibs
# file so that packages built against it depend on it. A package build
# must configure with CMAKE_INSTALL_PREFIX=/usr (the `package` preset), so
# that GNUInstallDirs picks Debian's multiarch libdir. ci/package builds,
# checks, installs and removes the packages.
# cmake/package-debian.cmake finishes each package's staged tree as Debian
# policy asks (compressed man pages, copyright and changelog); the files it
# and the triggers take are in cmake/debian/.

get_target_property(_soversion vdsokit_elf_shared SOVERSION)
string(TIMESTAMP _year "%Y" UTC)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vdsokit)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "vdsokit maintainers")
set(CPACK_PACKAGE_CONTACT "vdsokit maintainers <maintainers@users.noreply.r-seed-c5c9775b.example>")
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL tools lib dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
# A 0.x minor release changes the SONAME, so any later build of this SONAME
# satisfies a dependent.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME vdsokit)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_TOOLS_DESCRIPTION
    "conformance suite for the Linux x86-64 vDSO
vdsoconf runs conformance checks against a vDSO: this kernel's as mapped,
a reference implementation, the C library's wrappers or a vDSO image on
emulated data pages, and exits with a verdict a CI system can gate on.
vdsoimg dumps, inspects, checks and embeds vDSO images. Both come linked
dynamically and statically (vdsoconf-static, vdsoimg-static). The project's
waiver file is in /usr/share/vdsokit.")

set(CPACK_DEBIAN_LIB_PACKAGE_NAME libvdsokit-elf${_soversion})
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
# The ldconfig trigger, as policy asks of a package with a public library.
set(CPACK_DEBIAN_LIB_PACKAGE_CONTROL_EXTRA ${CMAKE_CURRENT_LIST_DIR}/debian/triggers)
set(CPACK_DEBIAN_LIB_DESCRIPTION
    "hardened ELF resolver for vDSO-like shared objects
libvdsokit_elf reads untrusted bytes of a vDSO-like shared object (any
class, byte order and machine) and looks up symbols through DT_GNU_HASH,
DT_HASH or a scan, with GNU symbol versions. Every read is bounds-checked
and every walk bounded, so a malformed image gives an error naming the
field, its offset and its value rather than a crash. It needs only libc.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libvdsokit-elf-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_DESCRIPTION
    "hardened ELF resolver for vDSO-like shared objects (development files)
The headers of libvdsokit_elf, its static library, a CMake package
(find_package(vdsokit) gives vdsokit::elf and vdsokit::elf_static) and a
pkg-config file (vdsokit-elf).")

set(CPACK_VDSOKIT_YEAR ${_year})
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/package-debian.cmake)
include(CPack)
cpack_add_component(tools)
cpack_add_component(lib)
cpack_add_component(dev DEPENDS lib)
