/*
 * The probe on this host: it finds the [vdso] at AT_SYSINFO_EHDR, the
 * kernel version in the vDSO's note agreeing with uname, and on 6.17/6.18
 * the described layout, whose time page is the very page the old fixed
 * offset (six pages below the text) gave and holds a live record. Then,
 * in throwaway children whose mappings are reshaped like another era
 * ([vvar] directly below [vdso], or no [vvar] at all), the probe must see
 * the new shape, refuse every data-page pointer, and read nothing that
 * faults, while the old fixed offset is shown to point at unmapped memory.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/auxv.h>

#include "../check.h"
#include "live_reshape.h"

static void test_host(const struct live_layout *l)
{
    size_t size;
    const void *text = live_layout_vdso(l, &size);

    CHECK_EQ_U64((uintptr_t)text, getauxval(AT_SYSINFO_EHDR));
    CHECK(size >= VDSO_PAGE_SIZE && size % VDSO_PAGE_SIZE == 0, "[vdso] size %zu", size);
    CHECK(l->has_note, "the live vDSO has no `Linux` note");
    CHECK(l->has_uname && (l->note_version >> 8) == (l->uname_version >> 8), "note %#x vs uname %s",
          l->note_version, l->release);
    printf("%s; maps: [vvar] %#lx-%#lx, [vvar_vclock] %#lx-%#lx, [vdso] %#lx-%#lx\n", l->summary,
           (unsigned long)l->maps.vvar.lo, (unsigned long)l->maps.vvar.hi,
           (unsigned long)l->maps.vclock.lo, (unsigned long)l->maps.vclock.hi,
           (unsigned long)l->maps.vdso.lo, (unsigned long)l->maps.vdso.hi);
    if (!l->described)
        SKIP("%s (this host's kernel is of an era this build does not read)", l->why);
    struct vdso_time_data snap;
    CHECK(live_layout_snapshot(l, LIVE_PAGE_TIME, &snap), "no snapshot of the time page");
    CHECK(snap.clock_data[0].mult != 0 && !(snap.clock_data[0].seq & 1), "snapshot: mult %u seq %u",
          snap.clock_data[0].mult, snap.clock_data[0].seq);
    if (!layout_records_native(&l->decision.era->rec))
        return; /* the pointer below exists in the 6.17-6.18 format only */
    const volatile struct vdso_time_data *d = live_layout_time_data(l);
    CHECK_EQ_U64((uint64_t)d->clock_data[0].clock_mode, (uint64_t)snap.clock_data[0].clock_mode);
    uintptr_t fixed = getauxval(AT_SYSINFO_EHDR) - VDSO_DATA_PAGES * VDSO_PAGE_SIZE;
    CHECK_EQ_U64((uintptr_t)d, fixed);
    CHECK(d && (d->clock_data[0].clock_mode >= VDSO_CLOCKMODE_NONE &&
                d->clock_data[0].clock_mode < VDSO_CLOCKMODE_MAX),
          "clock mode %d on the probed page", d ? d->clock_data[0].clock_mode : -99);
    CHECK(d && d->clock_data[0].mult != 0, "mult 0 on the probed page");
}

/* In the child: reshape, probe again, and check that nothing is handed out. */
static int reshaped(void *arg)
{
    enum live_reshape how = *(enum live_reshape *)arg;
    struct live_layout before, after;
    struct vdsokit_error err;

    if (live_layout_probe(&before, &err))
        return 3;
    int r = live_reshape(&before.maps, how);
    if (r) {
        fprintf(stderr, "reshape %d: %s\n", how, strerror(-r));
        return 4;
    }
    uintptr_t fixed = before.base - VDSO_DATA_PAGES * VDSO_PAGE_SIZE;
    CHECK(!reshape_readable(fixed), "the old fixed offset %#lx is still mapped after reshape %d",
          (unsigned long)fixed, how);
    CHECK(live_layout_probe(&after, &err) == 0, "probe after reshape: %s", err.msg);
    CHECK(!after.described && !live_layout_time_data(&after) &&
              !live_layout_page(&after, LIVE_PAGE_NS_REAL) &&
              !live_layout_page(&after, LIVE_PAGE_PVCLOCK),
          "reshape %d: a data page was handed out (%s)", how, after.summary);
    CHECK(after.decision.verdict == LAYOUT_MISMATCH, "reshape %d: verdict %d", how,
          after.decision.verdict);
    if (how == RESHAPE_PRE_6_13)
        CHECK(after.maps.vvar.hi == after.maps.vdso.lo && !after.maps.vclock.count,
              "the child's maps do not show the 6.1 shape");
    printf("reshape %d: %s\n", how, after.why);
    return check_finish();
}

static void test_reshaped(const struct live_layout *l, enum live_reshape how)
{
    int st = reshape_in_child(reshaped, &how);

    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "reshape %d child: %s %d", how,
          WIFSIGNALED(st) ? "killed by signal" : "exit",
          WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

int main(void)
{
    struct live_layout l;
    struct vdsokit_error err;

    if (!getauxval(AT_SYSINFO_EHDR))
        SKIP("no vDSO in this process");
    CHECK(live_layout_probe(&l, &err) == 0, "probe: %s", err.msg);
    if (!l.maps.vclock.count)
        SKIP("%s: no [vvar_vclock] to reshape from", l.summary);
    if (LIVE_RESHAPE_SANITIZED) {
        printf("%s\n", LIVE_RESHAPE_SANITIZED_WHY);
    } else {
        test_reshaped(&l, RESHAPE_PRE_6_13);
        test_reshaped(&l, RESHAPE_NO_VVAR);
    }
    test_host(&l);
    return check_finish();
}
