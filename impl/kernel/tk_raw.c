/*
 * The timekeeper's raw levers (vdsokit/timekeeper_raw.h), for tests and
 * fuzzers that need states a kernel rarely shows: seq values set directly,
 * a hand-made update held open across calls, clock records published as
 * given, and the pvclock page's version and stable flag. A hand-made update
 * is ownership recorded in the timekeeper, not a held mutex (tk_lock in
 * tk_internal.h lets only the owner's calls through until it ends).
 */
#include "tk_internal.h"
#include <errno.h>
#include <vdsokit/datapages_era.h>

int tk_set_seq(struct timekeeper *tk, uint32_t seq)
{
    struct vdso_time_data *page = datapages_time(tk->dp);

    tk_lock(tk);
    for (int i = 0; i < VDSO_CS_BASES; i++) {
        tk->st.shadow.clock_data[i].seq = seq;
        __atomic_store_n(&page->clock_data[i].seq, seq, __ATOMIC_RELEASE);
    }
    datapages_era_seqs(tk->dp);
    tk_unlock(tk);
    return 0;
}

int tk_update_begin(struct timekeeper *tk)
{
    int err = 0;

    tk_lock(tk);
    if (tk->hand_open) {
        err = -EBUSY; /* this thread's own update is open */
    } else {
        tk_write_begin(tk);
        tk->hand_open = true;
        tk->hand_owner = pthread_self();
    }
    tk_unlock(tk);
    return err;
}

int tk_update_end(struct timekeeper *tk)
{
    int err = 0;

    tk_lock(tk);
    if (!tk->hand_open) {
        err = -EINVAL;
    } else {
        tk->hand_open = false;
        tk_write_end(tk);
        pthread_cond_broadcast(&tk->hand_done);
    }
    tk_unlock(tk);
    return err;
}

int tk_publish_raw(struct timekeeper *tk, const struct vdso_clock cd[VDSO_CS_BASES])
{
    tk_lock(tk);
    for (int i = 0; i < VDSO_CS_BASES; i++) {
        struct vdso_clock *sh = &tk->st.shadow.clock_data[i];
        uint32_t seq = sh->seq;
        *sh = cd[i];
        sh->seq = seq;
    }
    tk_publish_shadow(tk);
    tk_unlock(tk);
    return 0;
}

int tk_pvclock_set_version(struct timekeeper *tk, uint32_t version)
{
    tk_lock(tk);
    __atomic_store_n(&datapages_pvclock(tk->dp)->version, version, __ATOMIC_RELEASE);
    tk_unlock(tk);
    return 0;
}

int tk_pvclock_set_stable(struct timekeeper *tk, bool stable)
{
    struct pvclock_vcpu_time_info *pv = &tk->st.pv;

    tk_lock(tk);
    if (stable)
        pv->flags |= PVCLOCK_TSC_STABLE_BIT;
    else
        pv->flags &= (uint8_t)~PVCLOCK_TSC_STABLE_BIT;
    tk_write_pvclock(tk);
    tk_unlock(tk);
    return 0;
}
