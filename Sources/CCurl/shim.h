// libcurl, the URL transfer library: https://curl.se/libcurl/c/
#ifndef DRIFTWATCH_CCURL_SHIM_H
#define DRIFTWATCH_CCURL_SHIM_H
#include <curl/curl.h>
#endif
