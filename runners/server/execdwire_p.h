// execd's wire format, for the handlers of `sandflow serve`: everything between an HTTP
// request and a Runner call, and between a Runner result and the bytes execd would send.
// Pure functions and small value types, with no I/O; the behaviour they copy is execd's as
// observed, which differs from its OpenAPI description in places (noted where it matters).
//
//   execderror_p.h       execd's {code, message} errors, as ApiErrors for Parsed<T>
//   execdjson_p.h        FileInfo, CommandStatus and metrics as JSON; modes; times
//   execdlines_p.h       ExecdLineSplitter: command output as one event per line
//   execdevents_p.h      the event stream of /command and /session/{id}/run
//   execdrequests_p.h    request bodies and `path` query parameters
//   execdupload_p.h      POST /files/upload (over multipartform_p.h)
//   execddownload_p.h    GET /files/download: Range, Content-Range, Content-Disposition
#pragma once

#include "execddownload_p.h"
#include "execderror_p.h"
#include "execdevents_p.h"
#include "execdjson_p.h"
#include "execdlines_p.h"
#include "execdrequests_p.h"
#include "execdupload_p.h"
#include "multipartform_p.h"
