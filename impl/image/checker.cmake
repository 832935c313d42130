# The image checker (vdso2c / check_vdso rules), part of the vdsokit library.
# It decodes .altinstructions with the loader's altpatch.c, so vdsoimg's
# private library (impl/tools/vdsoimg) takes that file along.
target_sources(vdsokit PRIVATE ${CMAKE_CURRENT_LIST_DIR}/imgcheck.c
                               ${CMAKE_CURRENT_LIST_DIR}/imgcheck_rules.c)
set_property(GLOBAL APPEND PROPERTY VDSOKIT_IMGTOOL_SOURCES
             ${CMAKE_CURRENT_LIST_DIR}/imgcheck.c ${CMAKE_CURRENT_LIST_DIR}/imgcheck_rules.c
             ${CMAKE_CURRENT_LIST_DIR}/altpatch.c)
