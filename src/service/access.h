/*
 * src/service/access.h - who may call the service and how often: API keys and a per-client
 * token-bucket rate limiter, plus svc_access, the two together as the service asks them
 * ("is this request let in, and if not, 401 or 429 with which Retry-After?").
 *
 * API key file (--api-key-file), UTF-8/ASCII text, one key per line:
 *
 *     # comment lines and blank lines are ignored
 *     3f9c2b7e0a6d41f8b5c9e2d7a1f04c6b   mapping-team
 *     k-7Qm2VxP9sLrT4wZc                   # a key with no client name is fine too
 *
 * A key is 16 to 256 printable non-space ASCII bytes (0x21..0x7e); what follows it on the line
 * after spaces/tabs is the client name (up to SVC_CLIENT_NAME_MAX - 1 bytes, printable, used in
 * logs; a trailing "# ..." is part of the name). A line whose first non-blank character is
 * '#' is a comment, so keys cannot start with '#'. Leading spaces are allowed, CRLF line ends
 * too. A line with a bad key, a duplicate key or an over-long name makes loading fail with a
 * message naming the file and the line; messages never show a key. A file that holds no key
 * is refused (it would lock every client out). Limits: SVC_KEYS_MAX keys, SVC_KEYS_FILE_MAX
 * bytes.
 *
 * Key lookup compares the presented key with every loaded key over the full SVC_KEY_MAX bytes
 * and without early exit, so its duration does not depend on where (or whether) a key
 * differs: a timing attack learns nothing about the keys (only the number of keys loaded).
 *
 * Rate limiting: each client (an API key's index, or the client's address when the server
 * runs without keys) owns a bucket of `burst` tokens refilled at `rate` tokens per second;
 * a request takes one token or is refused with the seconds until one is back (round up for
 * Retry-After). At most max_clients buckets are kept: a new client beyond that evicts the
 * least recently seen one (whose next request starts again with a full bucket). Time is given
 * by the caller (svc_ratelimit_take's now_s) or, for svc_access, by an injectable clock.
 *
 * Thread safety: a loaded svc_keys is immutable and may be shared by all threads;
 * svc_ratelimit and svc_access calls may come from any thread at once (one mutex inside);
 * the _create/_load and _free calls must not race with other calls on the same object.
 */
#ifndef EOS_SERVICE_ACCESS_H
#define EOS_SERVICE_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define SVC_KEY_MIN          16
#define SVC_KEY_MAX          256
#define SVC_KEYS_MAX         1024                /* keys in one file */
#define SVC_KEYS_FILE_MAX    (1024 * 1024)       /* bytes of a key file */
#define SVC_CLIENT_NAME_MAX  128                 /* client name buffer, NUL included */
#define SVC_CLIENT_ID_MAX    64                  /* rate limiter client id buffer, NUL included */

/* ------------------------------------------------------------------ API keys */

typedef struct svc_keys svc_keys;

/* Load the key file at path. *warning (warning_size bytes; may be NULL/0) receives "" or a
 * warning in plain words when the file is readable or writable by group or others ("API key
 * file 'keys.txt' can be read by other users (mode 0644): chmod 600 it"); the file loads all
 * the same. Errors: EOS_INVALID_ARG (NULL path/out), EOS_IO (cannot open or read; not a
 * regular file), EOS_LIMIT (over SVC_KEYS_FILE_MAX bytes or SVC_KEYS_MAX keys), EOS_PARSE (a
 * bad line, a duplicate key, no key at all), EOS_NOMEM. Free with svc_keys_free. */
eos_status svc_keys_load(const char *path, svc_keys **out /* OUT */, char *warning,
                         size_t warning_size, eos_err *err);

/* Parse key-file text (len bytes, need not be NUL-terminated); source names it in messages
 * ("API key file 'source' line 3: ..."). Same errors as svc_keys_load except EOS_IO. */
eos_status svc_keys_from_memory(const char *text, size_t len, const char *source,
                                svc_keys **out /* OUT */, eos_err *err);

/* Free the table (the keys are wiped first). NULL is a no-op. */
void svc_keys_free(svc_keys *k);

/* Number of keys loaded. */
int svc_keys_count(const svc_keys *k);

/* The index (0 ..) of the loaded key equal to the key presented in the request headers, or
 * -1 when none matches or none is presented. authorization: the Authorization header value
 * ("Bearer KEY", the scheme case-insensitive); x_api_key: the X-API-Key header value (the
 * key). Either may be NULL; a Bearer key wins over X-API-Key. Spaces around the key are
 * ignored. Constant time per loaded key (see above). */
int svc_keys_lookup(const svc_keys *k, const char *authorization, const char *x_api_key);

/* The client name of key i ("" when the line had none), or NULL for a bad index. Borrowed
 * from the table. */
const char *svc_keys_name(const svc_keys *k, int i);

/* The line of the key file that key i came from (1-based), or 0 for a bad index. */
int svc_keys_line(const svc_keys *k, int i);

/* ------------------------------------------------------------------ rate limiter */

typedef struct svc_ratelimit svc_ratelimit;

/* A limiter of rate_per_s tokens per second (> 0, finite), buckets of burst tokens (>= 1,
 * finite), tracking at most max_clients clients (1 .. 10 000 000). Errors: EOS_INVALID_ARG,
 * EOS_NOMEM (the tables for max_clients are allocated here, once). */
eos_status svc_ratelimit_create(double rate_per_s, double burst, int max_clients,
                                svc_ratelimit **out /* OUT */, eos_err *err);
void svc_ratelimit_free(svc_ratelimit *rl);

/* Take one token from client's bucket at time now_s (seconds of any monotonic clock; a time
 * before the client's last one counts as no time passed). Returns true when the request may
 * go ahead; false when the bucket is empty, with *retry_after_s (may be NULL) set to the
 * seconds until a token is back (0 when allowed). client: any NUL-terminated id; ids of
 * SVC_CLIENT_ID_MAX bytes or more are told apart by a 64-bit hash of the whole id. NULL
 * client counts as "". */
bool svc_ratelimit_take(svc_ratelimit *rl, const char *client, double now_s,
                        double *retry_after_s);

/* Number of clients tracked now (<= max_clients). */
int svc_ratelimit_n_clients(svc_ratelimit *rl);

/* ------------------------------------------------------------------ access (keys + limits) */

typedef struct svc_access svc_access;

typedef struct svc_access_params {
    const char *key_file;      /* NULL: no API keys: every request is let in by key */
    double      rate_per_s;    /* <= 0: no rate limit */
    double      burst;         /* bucket size; <= 0: 2 x rate_per_s (at least 1) */
    int         max_clients;   /* clients tracked by the limiter; <= 0: 10 000 */
    double    (*now)(void *cls);   /* clock in seconds; NULL: CLOCK_MONOTONIC */
    void       *now_cls;
} svc_access_params;

typedef enum svc_access_verdict {
    SVC_ACCESS_ALLOW = 0,
    SVC_ACCESS_UNAUTHORIZED,   /* answer 401 */
    SVC_ACCESS_LIMITED         /* answer 429 with Retry-After: retry_after_header */
} svc_access_verdict;

typedef struct svc_access_result {
    svc_access_verdict verdict;
    int                key;                  /* the key's index, -1 without keys */
    const char        *client_name;          /* the key's client name, or NULL; borrowed */
    double             retry_after_s;        /* LIMITED: seconds until a request would pass */
    int                retry_after_header;   /* LIMITED: ceil(retry_after_s), at least 1 */
    char               message[160];         /* UNAUTHORIZED / LIMITED: plain words */
} svc_access_result;

/* Load the key file (when given) and make the limiter (when rate_per_s > 0). warning: as for
 * svc_keys_load. Errors: those of svc_keys_load, EOS_INVALID_ARG (non-finite rates). Free
 * with svc_access_free. */
eos_status svc_access_create(const svc_access_params *p, svc_access **out /* OUT */,
                             char *warning, size_t warning_size, eos_err *err);
void svc_access_free(svc_access *a);

/* Whether requests need an API key (a key file was loaded). */
bool svc_access_keys_required(const svc_access *a);

/* Decide on one request: with keys, the key presented (header values as for
 * svc_keys_lookup) must be valid, else UNAUTHORIZED, and the key is the rate-limited client;
 * without keys the client is client_addr (the peer's address as text; NULL counts as "").
 * Then the client's bucket must hold a token, else LIMITED. Always fills *res. */
svc_access_verdict svc_access_check(svc_access *a, const char *authorization,
                                    const char *x_api_key, const char *client_addr,
                                    svc_access_result *res /* OUT */);

#endif /* EOS_SERVICE_ACCESS_H */
