// libpq, PostgreSQL's C client library: https://www.postgresql.org/docs/current/libpq.html
#ifndef DRIFTWATCH_CLIBPQ_SHIM_H
#define DRIFTWATCH_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
