/* A tiny freestanding "vDSO" for ld.lld test images: a few exported functions. */
int __vdso_clock_gettime(int clk, void *ts);
int __vdso_gettimeofday(void *tv, void *tz);
long __vdso_time(long *t);
int __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused);
int __vdso_clock_getres(int clk, void *res);

int __vdso_clock_gettime(int clk, void *ts)
{
    return ts ? clk : -1;
}
int __vdso_gettimeofday(void *tv, void *tz)
{
    return tv == tz;
}
long __vdso_time(long *t)
{
    return t ? *t : 0;
}
int __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused)
{
    return cpu && node && unused ? 1 : 0;
}
int __vdso_clock_getres(int clk, void *res)
{
    return res ? clk + 1 : clk;
}
int clock_gettime(int clk, void *ts) __attribute__((weak, alias("__vdso_clock_gettime")));
