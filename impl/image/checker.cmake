# The image checker (vdso2c / check_vdso rules) and the .altinstructions
# decoder it shares with the loader: part of vdsokit_elf (impl/elf), which
# vdsoimg links.
target_sources(vdsokit_elf PRIVATE ${CMAKE_CURRENT_LIST_DIR}/imgcheck.c
                                   ${CMAKE_CURRENT_LIST_DIR}/imgcheck_rules.c
                                   ${CMAKE_CURRENT_LIST_DIR}/altpatch.c)
