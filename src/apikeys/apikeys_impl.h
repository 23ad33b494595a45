/* Private helpers shared by the files of src/apikeys. */
#ifndef AT_APIKEYS_IMPL_H
#define AT_APIKEYS_IMPL_H

#include <jansson.h>

/* apikey_json_text parses a stored JSON array column; a new reference, an empty array when unreadable. */
json_t *apikey_json_text(const char *text);

#endif
