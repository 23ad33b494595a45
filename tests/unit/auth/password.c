/* Unit tests of password hashing and policy (src/auth/password.c). */
#include "auth/password.h"
#include "base/err.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

static void setup(void)
{
    cr_assert_geq(sodium_init(), 0);
    password_setup(2);
}

TestSuite(password, .init = setup);

Test(password, hash_and_verify)
{
    char hash[PASSWORD_HASH_MAX];
    cr_assert_eq(password_hash("correct horse battery", 21, hash), AT_OK);
    cr_assert(strncmp(hash, "$argon2id$v=19$m=65536,t=2,p=1$", 31) == 0, "%s", hash);
    bool rehash = true;
    cr_assert(password_verify(hash, "correct horse battery", 21, &rehash));
    cr_assert_not(rehash);
    cr_assert_not(password_verify(hash, "correct horse batterz", 21, NULL));
}

Test(password, old_parameters_ask_for_rehash)
{
    char hash[PASSWORD_HASH_MAX];
    cr_assert_eq(crypto_pwhash_str(hash, "some long password", 18, crypto_pwhash_OPSLIMIT_MIN, 8192 * 1024), 0);
    bool rehash = false;
    cr_assert(password_verify(hash, "some long password", 18, &rehash));
    cr_assert(rehash);
}

static const char *check(const char *pw, const char **code)
{
    return password_policy_check(pw, strlen(pw), 12, "jane.doe@example.com", "Jane Doe", code);
}

Test(password, policy)
{
    const char *code;
    cr_assert_null(check("mauve-otter-lantern", &code));
    cr_assert_null(check("x7#Kp2!vQ9zL", &code));
    cr_assert_not_null(check("short", &code));
    cr_assert_str_eq(code, "length");
    cr_assert_not_null(check("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", &code)); /* 6 characters, 12 bytes */
    cr_assert_str_eq(code, "length");
    const char *weak[] = {"password1234", "Password1234", "PASSWORD2026!", "qwertyuiop123", "aaaaaaaaaaaaa",
                          "abcdefghijklm", "123456789012", "abcabcabcabc", "121212121212", "iloveyou1234"};
    for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
        cr_assert_not_null(check(weak[i], &code), "%s accepted", weak[i]);
        cr_assert_str_eq(code, "common_password");
    }
    cr_assert_not_null(check("jane.doe@example.com", &code));
}
