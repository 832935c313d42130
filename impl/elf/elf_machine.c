/*
 * Short names of the e_machine values a Linux vDSO is built for, for the
 * tools' output and error messages.
 */
#include <elf.h>

#include <vdsokit/elf.h>

struct machine_name {
    uint16_t machine;
    const char *name;
};

static const struct machine_name machine_names[] = {
    {EM_386, "i386"},        {EM_MIPS, "mips"},
    {EM_PARISC, "parisc"},   {EM_PPC, "ppc"},
    {EM_PPC64, "ppc64"},     {EM_S390, "s390"},
    {EM_ARM, "arm"},         {EM_SH, "sh"},
    {EM_SPARCV9, "sparcv9"}, {EM_X86_64, "x86_64"},
    {EM_AARCH64, "aarch64"}, {EM_RISCV, "riscv"},
    {EM_CSKY, "csky"},       {EM_LOONGARCH, "loongarch"},
    {EM_ALPHA, "alpha"},
};

const char *elf_machine_name(uint16_t machine)
{
    for (size_t i = 0; i < sizeof(machine_names) / sizeof(machine_names[0]); i++)
        if (machine_names[i].machine == machine)
            return machine_names[i].name;
    return NULL;
}
