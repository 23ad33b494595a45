/* The migrations embedded in the binary (generated from src/store/schema by scripts/embed-sql.sh). */
#ifndef AT_STORE_MIGRATIONS_H
#define AT_STORE_MIGRATIONS_H

typedef struct store_migration {
    int version;      /* NNNN of the file name; strictly increasing */
    const char *name; /* file name without .sql */
    const char *sql;  /* the SQLite STRICT dialect; pg.c translates (store.h) */
} store_migration;

extern const store_migration store_migrations[];
extern const int store_migration_count;

#endif
