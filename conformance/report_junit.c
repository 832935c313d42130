/*
 * JUnit XML: one <testsuite> per target x group, one <testcase> per test
 * (classname vdsoconf.TARGET.GROUP). JUnit has no "waived": a waived
 * failure is a <skipped message="waived: ..."/> whose evidence goes to
 * <system-out>, so a CI dashboard never shows it as passed. A test a
 * crash kept from running is an <error type="notrun">; a suite whose tests
 * all skipped carries the property vdsoconf.status = NOT TESTED and its
 * skip reasons; host findings go to the test's <system-out>.
 */
#include "report.h"
#include "report_util.h"

static void xml_escaped(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            /* XML 1.0 forbids most control characters. */
            if (ch < 0x20 && ch != '\n' && ch != '\t')
                fputc('?', out);
            else
                fputc(ch, out);
        }
    }
}

static void first_line(FILE *out, const char *text)
{
    char buf[300];

    report_first_line(text, buf, sizeof(buf));
    xml_escaped(out, buf);
}

static void testcase(FILE *out, const struct conf_run *run, const struct conf_result *r)
{
    fprintf(out, "    <testcase classname=\"vdsoconf.");
    xml_escaped(out, run->target_names[r->target]);
    fprintf(out, ".%s\" name=\"", conf_groups[r->group].name);
    xml_escaped(out, r->id);
    fprintf(out, "\">");
    switch (r->status) {
    case CONF_PASS:
        break;
    case CONF_SKIP:
        fprintf(out, "<skipped message=\"");
        first_line(out, r->text);
        fprintf(out, "\"/>");
        break;
    case CONF_WAIVED:
        fprintf(out, "<skipped message=\"waived: ");
        xml_escaped(out, r->waived_by);
        fprintf(out, "\"/><system-out>");
        xml_escaped(out, r->text);
        fprintf(out, "</system-out>");
        break;
    case CONF_NOTRUN:
        fprintf(out, "<error type=\"notrun\" message=\"");
        first_line(out, r->text);
        fprintf(out, "\">");
        xml_escaped(out, r->text);
        fprintf(out, "</error>");
        break;
    case CONF_FAIL:
        fprintf(out, "<failure message=\"");
        first_line(out, r->text);
        fprintf(out, "\">");
        xml_escaped(out, r->waiver_note);
        if (r->waiver_note)
            fputc('\n', out);
        xml_escaped(out, r->text);
        fprintf(out, "</failure>");
        break;
    case CONF_NSTATUS:
        break;
    }
    if (r->host_finding) {
        fprintf(out, "<system-out>host finding (not a target failure): ");
        xml_escaped(out, r->host_finding);
        fprintf(out, "</system-out>");
    }
    fprintf(out, "</testcase>\n");
}

/* The skip reasons of a NOT TESTED cell, counted, as one line. */
static void cell_reasons(const struct conf_run *run, unsigned t, unsigned g, char *text, size_t len)
{
    struct report_reason reasons[REPORT_REASONS_MAX];
    unsigned n = report_skip_reasons(run->results, (int)t, (int)g, reasons, REPORT_REASONS_MAX);

    report_reasons_text(reasons, n, text, len);
}

static void not_tested(FILE *out, const struct conf_run *run, unsigned t, unsigned g)
{
    char text[600];

    cell_reasons(run, t, g, text, sizeof(text));
    fprintf(out, "    <properties><property name=\"vdsoconf.status\" value=\"NOT TESTED\"/>"
                 "<property name=\"vdsoconf.skip_reasons\" value=\"");
    xml_escaped(out, text);
    fprintf(out, "\"/></properties>\n");
}

static void not_tested_out(FILE *out, const struct conf_run *run, unsigned t, unsigned g)
{
    char text[600];

    cell_reasons(run, t, g, text, sizeof(text));
    fprintf(out, "    <system-out>NOT TESTED: every test skipped (");
    xml_escaped(out, text);
    fprintf(out, ")</system-out>\n");
}

int report_junit(const char *path, const struct conf_run *run)
{
    FILE *out = report_open("--junit", path);

    if (!out)
        return -1;
    const struct conf_results *rs = run->results;
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"vdsoconf\">\n");
    for (unsigned t = 0; t < run->ntargets; t++) {
        for (unsigned g = 0; g < conf_ngroups; g++) {
            const struct conf_cell *c = &rs->cells[t][g];
            if (!c->ran)
                continue;
            fprintf(out, "  <testsuite name=\"");
            xml_escaped(out, run->target_names[t]);
            fprintf(out,
                    ".%s\" tests=\"%u\" failures=\"%u\" errors=\"%u\" skipped=\"%u\" "
                    "time=\"%.3f\">\n",
                    conf_groups[g].name, conf_cell_total(c), c->count[CONF_FAIL],
                    c->count[CONF_NOTRUN], c->count[CONF_SKIP] + c->count[CONF_WAIVED], c->seconds);
            if (conf_cell_not_tested(c))
                not_tested(out, run, t, g);
            for (size_t i = 0; i < rs->n; i++)
                if (rs->items[i].target == t && rs->items[i].group == g)
                    testcase(out, run, &rs->items[i]);
            if (conf_cell_not_tested(c))
                not_tested_out(out, run, t, g);
            fprintf(out, "  </testsuite>\n");
        }
    }
    fprintf(out, "</testsuites>\n");
    return fclose(out) == 0 ? 0 : -1;
}
