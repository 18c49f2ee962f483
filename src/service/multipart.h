/*
 * src/service/multipart.h - a parser of multipart/form-data request bodies (RFC 7578 over the
 * multipart syntax of RFC 2046) for the service's upload routes, over a body already in memory.
 *
 * The body is a preamble (ignored), then parts each introduced by a delimiter line
 * "--BOUNDARY", then a close delimiter "--BOUNDARY--" and an epilogue (ignored):
 *
 *     --XyZ\r\n
 *     Content-Disposition: form-data; name="image"; filename="a.png"\r\n
 *     Content-Type: image/png\r\n
 *     \r\n
 *     <bytes>\r\n
 *     --XyZ\r\n
 *     Content-Disposition: form-data; name="top_k"\r\n
 *     \r\n
 *     3\r\n
 *     --XyZ--\r\n
 *
 * What is accepted:
 *   - the Content-Type value "multipart/form-data; boundary=XyZ": the media type and the
 *     parameter names are case-insensitive, the boundary is a token or a quoted string of 1 to
 *     70 bytes (RFC 2046), other parameters are ignored;
 *   - CRLF line ends, and bare LF as well; the CR (or LF) before a delimiter belongs to the
 *     delimiter, not to the part's data. A delimiter line may end in spaces/tabs (RFC 2046's
 *     transport padding). "--XyZ" followed by anything other than "--", padding or a line end
 *     is not a delimiter: it stays part of the data (RFC 2046 says senders never produce it);
 *   - part headers: names case-insensitive; folded lines (continuations starting with a space
 *     or tab) are unfolded; each unfolded header line may be up to SVC_MP_LINE_MAX bytes and
 *     all header lines of one part up to SVC_MP_HEADERS_MAX bytes (else EOS_LIMIT).
 *     Content-Disposition must be "form-data" with a name parameter; Content-Type is optional
 *     ("text/plain" when absent); other headers (Content-Transfer-Encoding ...) are ignored;
 *   - parameter values (name, filename) as tokens or quoted strings. Inside quotes a backslash
 *     escapes only '"' and '\' (so "C:\img\a.png" keeps its backslashes); browsers send '"' as
 *     %22, which is kept as is (no percent-decoding). filename* (RFC 5987) is ignored;
 *   - names up to SVC_MP_NAME_MAX - 1 (255) bytes: a longer name is refused (EOS_LIMIT), as a
 *     truncated name would match the wrong field. A longer filename is truncated to at most
 *     255 bytes, backing off to a UTF-8 character boundary, and filename_truncated is set;
 *     a part Content-Type longer than SVC_MP_TYPE_MAX - 1 bytes is refused (EOS_LIMIT).
 *
 * Part data is not copied: data points into the caller's body and is valid as long as the
 * body is. No allocation is made; every function here is reentrant and thread-safe (they
 * touch only their arguments).
 *
 * Errors come back as a status and a message in plain words, fit for the body of a 400
 * answer ("multipart body has no closing boundary"): the message goes to err (may be NULL).
 */
#ifndef EOS_SERVICE_MULTIPART_H
#define EOS_SERVICE_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define SVC_MP_BOUNDARY_MAX 70      /* RFC 2046 */
#define SVC_MP_NAME_MAX     256     /* name / filename buffer, NUL included */
#define SVC_MP_TYPE_MAX     128     /* content type buffer, NUL included */
#define SVC_MP_LINE_MAX     1024    /* one unfolded part header line */
#define SVC_MP_HEADERS_MAX  8192    /* all header bytes of one part */

/* One part of a form. Strings are NUL-terminated copies; data points into the body. */
typedef struct svc_mp_part {
    char           name[SVC_MP_NAME_MAX];         /* the form field's name (never empty) */
    char           filename[SVC_MP_NAME_MAX];     /* "" when has_filename is false */
    bool           has_filename;                  /* a filename parameter was present */
    bool           filename_truncated;            /* cut to fit filename[] */
    char           content_type[SVC_MP_TYPE_MAX]; /* as sent (parameters kept), or "text/plain" */
    const uint8_t *data;                          /* first byte of the content, inside the body */
    size_t         len;                           /* bytes of content (may be 0) */
} svc_mp_part;

/* Whether a Content-Type header value names multipart/form-data (case-insensitive, parameters
 * ignored). NULL gives false. */
bool svc_mp_is_form(const char *content_type);

/* Extract the boundary parameter of a multipart/form-data Content-Type value into out (size
 * bytes, at least SVC_MP_BOUNDARY_MAX + 1), NUL-terminated. Errors: EOS_INVALID_ARG (NULL
 * arguments, out too small), EOS_UNSUPPORTED (not multipart/form-data), EOS_PARSE (no
 * boundary, empty, longer than 70 bytes, an unterminated quoted string, control bytes). */
eos_status svc_mp_boundary(const char *content_type, char *out, size_t size, eos_err *err);

/* Parse body (len bytes) sent with the Content-Type value content_type into parts[0 ..
 * max_parts-1]; *n_parts receives the number of parts (0 for a form with no part). On failure
 * *n_parts is 0 and parts[] may hold partial results. Errors: EOS_INVALID_ARG (NULL
 * arguments other than body with len 0, max_parts < 0), the errors of svc_mp_boundary,
 * EOS_PARSE (no delimiter in the body, no closing boundary, a part without headers end, a
 * malformed header line, a missing Content-Disposition: form-data or name), EOS_LIMIT (more
 * than max_parts parts, a header line or name over its limit). */
eos_status svc_mp_parse(const char *content_type, const void *body, size_t len,
                        svc_mp_part *parts, int max_parts, int *n_parts /* OUT */,
                        eos_err *err);

/* The first part named name (exact, case-sensitive comparison), or NULL. */
const svc_mp_part *svc_mp_find(const svc_mp_part *parts, int n_parts, const char *name);

/* Copy a small text field's data into buf (size bytes) as a NUL-terminated string. Errors:
 * EOS_INVALID_ARG (NULL arguments, size 0), EOS_LIMIT (data of size bytes or more: "form field
 * 'top_k' is longer than N bytes"), EOS_PARSE (data containing a NUL byte). On failure buf
 * holds "". */
eos_status svc_mp_text(const svc_mp_part *part, char *buf, size_t size, eos_err *err);

#endif /* EOS_SERVICE_MULTIPART_H */
