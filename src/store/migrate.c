/* Schema migrations: the numbered SQL files of src/store/schema, embedded in the binary, applied in
 * order, each in its own write transaction together with its schema_migrations row. Migrators in
 * several processes may race: each step takes the migration lock (SQLite: BEGIN IMMEDIATE itself;
 * PostgreSQL: an advisory transaction lock) and re-reads the version under it. */
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/migrations.h"
#include "store/store_impl.h"

#include <stdio.h>
#include <stdlib.h>

/* Written in the migration dialect, so the PostgreSQL backend translates it like any migration. */
static const char migrate_table_sql[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                        "version INTEGER PRIMARY KEY, "
                                        "name TEXT NOT NULL, "
                                        "applied_at INTEGER NOT NULL) STRICT";

typedef struct migrate_step {
    const store_migration *list;
    int count;
    const store_migration *applied; /* OUT: the migration this step applied, NULL when none was due */
    char *err;                      /* 512 bytes */
} migrate_step;

static int migrate_one(store_conn *c, void *ctx);

/* store_migrate_list applies every migration of list (strictly increasing versions) newer than the
 * database, one transaction each. Returns AT_OK; AT_ECONFLICT when the database is newer than the list;
 * AT_EINTERNAL for a malformed list; or the failing step's status. err gets a message on failure. */
int store_migrate_list(store *s, const store_migration *list, int count, char err[512])
{
    err[0] = '\0';
    for (int i = 0; i < count; i++) {
        if (list[i].version <= 0 || (i > 0 && list[i].version <= list[i - 1].version)) {
            store_err_set(err, "embedded migrations are out of order at %s", list[i].name);
            return AT_EINTERNAL;
        }
    }
    migrate_step step = {list, count, NULL, err};
    for (;;) {
        step.applied = NULL;
        int rc = store_tx(s, true, migrate_one, &step);
        if (rc != AT_OK) {
            if (!err[0])
                store_err_set(err, "migration failed: %s", at_status_name(rc));
            return rc;
        }
        if (!step.applied)
            return AT_OK;
        json_t *f = json_pack("{s:i, s:s}", "version", step.applied->version, "name", step.applied->name);
        log_event(LOG_INFO, "migration applied", f);
    }
}

int store_migrate(store *s, char err[512])
{
    return store_migrate_list(s, store_migrations, store_migration_count, err);
}

/* store_migrate_to is store_migrate over the embedded migrations up to and including `version`, which
 * must be one this binary knows (AT_EINVAL with a message otherwise). Used to build a database at an
 * earlier schema (upgrade tests, rehearsing an upgrade step by step). */
int store_migrate_to(store *s, int version, char err[512])
{
    int n = 0;
    while (n < store_migration_count && store_migrations[n].version <= version)
        n++;
    if (n == 0 || store_migrations[n - 1].version != version) {
        store_err_set(err, "this binary has no migration numbered %d", version);
        return AT_EINVAL;
    }
    return store_migrate_list(s, store_migrations, n, err);
}

/* store_migration_status reads schema_migrations (absent: nothing applied) and reports each embedded
 * migration with the time it was applied. *rows_out is a new array of *count_out rows the caller frees;
 * names are borrowed from the embedded list. Returns AT_OK or a store status. */
int store_migration_status(store *s, store_migration_state **rows_out, int *count_out)
{
    store_conn *c = NULL;
    store_rows *r = NULL;
    bool exists = false;
    *rows_out = NULL;
    *count_out = 0;
    store_migration_state *rows = xcalloc((size_t)store_migration_count + 1, sizeof *rows);
    for (int i = 0; i < store_migration_count; i++) {
        rows[i].version = store_migrations[i].version;
        rows[i].name = store_migrations[i].name;
    }
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        goto free_rows;
    rc = s->ops->has_table(c, "schema_migrations", &exists);
    if (rc != AT_OK || !exists)
        goto release;
    rc = store_query(c, "SELECT version, applied_at FROM schema_migrations", NULL, 0, &r);
    if (rc != AT_OK)
        goto release;
    while ((rc = store_rows_next(r)) == 1) {
        int64_t v = store_rows_int(r, 0);
        for (int i = 0; i < store_migration_count; i++)
            if (rows[i].version == v)
                rows[i].applied_at = store_rows_int(r, 1);
    }
    store_rows_free(r);
release:
    store_release(c);
free_rows:
    if (rc < 0) {
        free(rows);
        return rc;
    }
    *rows_out = rows;
    *count_out = store_migration_count;
    return AT_OK;
}

int store_table_exists(store *s, const char *name, bool *out)
{
    store_conn *c = NULL;
    *out = false;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    rc = s->ops->has_table(c, name, out);
    store_release(c);
    return rc;
}

int store_schema_version(store *s, int *db_version_out, int *binary_version_out)
{
    store_conn *c = NULL;
    int rc = store_acquire(s, &c);
    if (rc != AT_OK)
        return rc;
    bool exists = false;
    int64_t v = 0;
    rc = s->ops->has_table(c, "schema_migrations", &exists);
    if (rc == AT_OK && exists) {
        rc = store_query_int(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", NULL, 0, &v);
        if (rc == AT_ENOTFOUND)
            rc = AT_OK;
    }
    store_release(c);
    if (rc != AT_OK)
        return rc;
    *db_version_out = (int)v;
    *binary_version_out = store_migration_count > 0 ? store_migrations[store_migration_count - 1].version : 0;
    return AT_OK;
}

/* migrate_one is one store_tx step: under the migration lock it makes sure schema_migrations exists,
 * reads the database's version, refuses a database newer than the list, and applies the next due
 * migration with its record (sets st->applied), or nothing when none is due. */
static int migrate_one(store_conn *c, void *ctx)
{
    migrate_step *st = ctx;
    const struct store_ops *ops = c->owner->ops;
    st->err[0] = '\0'; /* store_tx may run this step again after a busy failure */
    int rc = ops->migration_lock(c);
    if (rc != AT_OK)
        return rc;
    rc = ops->exec_script(c, migrate_table_sql, st->err);
    if (rc != AT_OK)
        return rc;
    int64_t current = 0;
    rc = store_query_int(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", NULL, 0, &current);
    if (rc != AT_OK)
        return rc;
    int newest = st->count > 0 ? st->list[st->count - 1].version : 0;
    if (current > newest) {
        store_err_set(st->err,
                      "database schema version %lld is newer than this binary (%d); upgrade atrium before starting it",
                      (long long)current, newest);
        return AT_ECONFLICT;
    }
    const store_migration *m = NULL;
    for (int i = 0; i < st->count && !m; i++)
        if (st->list[i].version > current)
            m = &st->list[i];
    if (!m)
        return AT_OK;

    char msg[512] = "";
    rc = ops->exec_script(c, m->sql, msg);
    if (rc != AT_OK) {
        store_err_set(st->err, "migration %s failed: %s", m->name, msg);
        return rc;
    }
    store_arg a[] = {sa_int(m->version), sa_text(m->name), sa_int(clock_now_us())};
    rc = store_exec(c, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", a, 3, NULL);
    if (rc != AT_OK) {
        store_err_set(st->err, "cannot record migration %s: %s", m->name, at_status_name(rc));
        return rc;
    }
    st->applied = m;
    return AT_OK;
}
