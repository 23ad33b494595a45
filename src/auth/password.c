/* Argon2id hashing with bounded concurrency, and the password policy. */
#include "auth/password.h"

#include "base/err.h"
#include "base/jsonv.h"
#include "base/mem.h"
#include "store/store.h"

#include <assert.h>
#include <ctype.h>
#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static sem_t password_sem;
static int password_concurrency = 2;
static pthread_once_t password_sem_once = PTHREAD_ONCE_INIT;
static pthread_once_t password_dummy_once = PTHREAD_ONCE_INIT;
static char password_dummy_hash[PASSWORD_HASH_MAX];

static void password_sem_init(void)
{
    sem_init(&password_sem, 0, (unsigned)password_concurrency);
}

void password_setup(int concurrency)
{
    password_concurrency = concurrency > 0 ? concurrency : 1;
    pthread_once(&password_sem_once, password_sem_init);
}

/* A real hash to verify against when the account does not exist: same cost, always false. Made on
 * first use by a thread that holds a hashing slot, so it counts against the bound like any hash. */
static void password_dummy_init(void)
{
    if (crypto_pwhash_str(password_dummy_hash, "atrium-dummy-password", strlen("atrium-dummy-password"),
                          crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        password_dummy_hash[0] = '\0'; /* verification against "" simply fails, still costing little */
}

/* Every hash and verification takes a slot here first. It must never happen inside a transaction:
 * a 64 MiB Argon2 run would hold SQLite's write lock (and be redone on every busy retry), stalling
 * every tenant's writes (issue 12, item 5). Debug and test builds abort on a regression. */
static void password_enter(void)
{
    assert(store_tx_open_count() == 0 && "Argon2 must not run inside a store transaction");
    pthread_once(&password_sem_once, password_sem_init);
    while (sem_wait(&password_sem) != 0)
        ;
}

static void password_leave(void)
{
    sem_post(&password_sem);
}

int password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_MAX])
{
    password_enter();
    int rc = crypto_pwhash_str(out, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE);
    password_leave();
    return rc == 0 ? AT_OK : AT_EINTERNAL;
}

bool password_verify(const char *stored, const char *pw, size_t len, bool *needs_rehash)
{
    password_enter();
    bool ok = crypto_pwhash_str_verify(stored, pw, len) == 0;
    password_leave();
    if (needs_rehash)
        *needs_rehash = ok && crypto_pwhash_str_needs_rehash(stored, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                                             crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
    return ok;
}

void password_burn(const char *pw, size_t len)
{
    password_enter();
    pthread_once(&password_dummy_once, password_dummy_init);
    int never = crypto_pwhash_str_verify(password_dummy_hash, pw, len);
    password_leave();
    (void)never;
}

/* Well-known passwords of 8 characters or more, lower-cased; the length rule already refuses the
 * shorter classics. Pattern checks below catch the endless variants (repeats, runs, "password" + digits). */
static const char *const password_common[] = {
    "password", "password1", "password12", "password123", "password1234", "password12345", "password123456",
    "passw0rd", "p@ssw0rd", "p@ssword", "p@ssword123", "password!", "password1!", "password123!",
    "qwertyuiop", "qwertyuiop123", "qwertyuiopasdfgh", "qwerty123456", "qwertyqwerty", "1qaz2wsx3edc",
    "1q2w3e4r5t6y", "1q2w3e4r5t", "zaq12wsxcde3", "asdfghjkl", "asdfghjkl123", "zxcvbnm123", "qazwsxedc",
    "qazwsxedcrfv", "iloveyou", "iloveyou123", "iloveyou1234", "iloveyouforever", "letmein", "letmein123",
    "letmeinplease", "welcome", "welcome123", "welcome1234", "welcometothejungle", "trustno1", "trustnoone",
    "sunshine", "sunshine123", "princess", "princess123", "football", "football123", "baseball", "baseball123",
    "basketball", "superman", "superman123", "batman123", "starwars", "starwars123", "dragon123", "monkey123",
    "shadow123", "master123", "masterkey", "michael123", "jennifer", "jordan23", "harley123", "charlie123",
    "computer", "computer123", "internet", "whatever", "whatever123", "changeme", "changeme123", "changeit",
    "administrator", "admin123", "admin1234", "admin12345", "adminadmin", "rootroot", "toortoor", "secret123",
    "mysecretpassword", "mypassword", "mypassword123", "thisismypassword", "correcthorsebatterystaple",
    "correct horse battery staple", "abcdefghijkl", "abcdefgh", "abcd1234", "abcd12345678", "abc123456789",
    "1234567890", "12345678910", "123456789012", "1234567890123", "0123456789", "9876543210", "987654321",
    "11111111", "111111111111", "000000000000", "123123123123", "121212121212", "1234qwer", "1234qwerasdf",
    "qwer1234", "qwerty1234", "q1w2e3r4t5y6", "a1b2c3d4e5f6", "football1234", "liverpool123", "chelsea123",
    "arsenal123", "manchester", "newyork123", "california", "summer2024", "summer2025", "summer2026",
    "winter2024", "winter2025", "winter2026", "spring2025", "spring2026", "autumn2025", "autumn2026",
    "january2026", "december2025", "november2026", "happybirthday", "goodmorning", "blink182", "pokemon123",
    "minecraft", "minecraft123", "fortnite123", "playstation", "nintendo64", "skywalker", "hellokitty",
    "helloworld", "helloworld123", "hello12345", "loveyou123", "lovelove", "babygirl123", "sweetheart",
    "butterfly", "chocolate", "cookie123", "pepper123", "ginger123", "soccer123", "hockey123", "tigers123",
    "yankees123", "cowboys123", "steelers", "eagles123", "dallas123", "thomas123", "daniel123", "andrew123",
    "joshua123", "matthew123", "jessica123", "ashley123", "amanda123", "nicole123", "michelle1", "samantha1",
    "passwordpassword", "password2024", "password2025", "password2026", "letmein2026", "welcome2026",
    "atriumatrium", "atrium123456", "atriumpassword", "workspace123", "company12345", "companyname",
};

/* True when every character is the same, or the text is one ascending/descending run (abcdef..., 98765...). */
static bool password_is_trivial(const char *pw, size_t len)
{
    bool same = true, up = true, down = true;
    for (size_t i = 1; i < len; i++) {
        same = same && pw[i] == pw[0];
        up = up && pw[i] == pw[i - 1] + 1;
        down = down && pw[i] == pw[i - 1] - 1;
    }
    return same || up || down;
}

/* True when the password is a short unit (up to 4 chars) repeated: "abcabcabcabc", "1212121212". */
static bool password_is_repeated(const char *pw, size_t len)
{
    for (size_t unit = 1; unit <= 4 && unit < len; unit++) {
        if (len % unit)
            continue;
        bool rep = true;
        for (size_t i = unit; i < len && rep; i++)
            rep = pw[i] == pw[i % unit];
        if (rep)
            return true;
    }
    return false;
}

static const char *password_policy_lower(const char *lower, size_t len, const char *email, const char *name,
                                         const char **code);

const char *password_policy_check(const char *pw, size_t len, int min_length, const char *email, const char *name,
                                  const char **code)
{
    static _Thread_local char msg[64]; /* our own sentence with a number; never user text */
    int64_t chars = utf8_length(pw, len);

    *code = "length";
    if (chars < min_length) {
        snprintf(msg, sizeof(msg), "Use at least %d characters.", min_length);
        return msg;
    }
    if (len > PASSWORD_MAX_BYTES)
        return "Use at most 1024 bytes.";
    char *lower = xmalloc(len + 1);
    for (size_t i = 0; i < len; i++)
        lower[i] = (char)tolower((unsigned char)pw[i]);
    lower[len] = '\0';
    const char *why = password_policy_lower(lower, len, email, name, code);
    xfree_secret(lower, len + 1);
    return why;
}

/* The checks on the lower-cased password (lower, len); *code is set as password_policy_check says. */
static const char *password_policy_lower(const char *lower, size_t len, const char *email, const char *name,
                                         const char **code)
{
    *code = "common_password";
    for (size_t i = 0; i < sizeof(password_common) / sizeof(password_common[0]); i++)
        if (strcmp(lower, password_common[i]) == 0)
            return "This password is too common; choose one that is harder to guess.";
    /* "password" or "qwerty" followed only by digits and symbols. */
    static const char *const stems[] = {"password", "passw0rd", "qwerty", "letmein", "welcome", "iloveyou", "admin"};
    for (size_t i = 0; i < sizeof(stems) / sizeof(stems[0]); i++) {
        size_t sl = strlen(stems[i]);
        if (strncmp(lower, stems[i], sl) == 0 && strspn(lower + sl, "0123456789!@#$%&*.?_-") == len - sl)
            return "This password is too common; choose one that is harder to guess.";
    }
    if (password_is_trivial(lower, len) || password_is_repeated(lower, len))
        return "This password is too easy to guess; avoid repeated or sequential characters.";
    if (email && *email) {
        const char *at = strchr(email, '@');
        size_t local = at ? (size_t)(at - email) : strlen(email);
        if (strcasecmp(lower, email) == 0 || (local >= 4 && local == len && strncasecmp(lower, email, local) == 0))
            return "The password must not be your email address.";
    }
    if (name && *name && strcasecmp(lower, name) == 0)
        return "The password must not be your name.";
    *code = NULL;
    return NULL;
}
