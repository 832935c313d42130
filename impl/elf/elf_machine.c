/*
 * Short names of the e_machine values a Linux vDSO is built for, for the
 * tools' output and error messages.
 */
#include <vdsokit/elf.h>

struct machine_name {
    uint16_t machine;
    const char *name;
};

static const struct machine_name machine_names[] = {
    {3, "i386"},      {8, "mips"},    {15, "parisc"}, {20, "ppc"},        {21, "ppc64"},
    {22, "s390"},     {40, "arm"},    {42, "sh"},     {43, "sparcv9"},    {62, "x86_64"},
    {183, "aarch64"}, {243, "riscv"}, {252, "csky"},  {258, "loongarch"}, {0x9026, "alpha"},
};

const char *elf_machine_name(uint16_t machine)
{
    for (size_t i = 0; i < sizeof(machine_names) / sizeof(machine_names[0]); i++)
        if (machine_names[i].machine == machine)
            return machine_names[i].name;
    return NULL;
}
