// Typed wrappers for libcurl's variadic calls, which Swift cannot call directly
// (curl_easy_setopt and curl_easy_getinfo take their argument through `...`).
// Each wrapper passes exactly the C type that libcurl documents for the option:
// https://curl.se/libcurl/c/curl_easy_setopt.html, https://curl.se/libcurl/c/curl_easy_getinfo.html
#ifndef DRIFTWATCH_CCURLSHIM_H
#define DRIFTWATCH_CCURLSHIM_H
#include <curl/curl.h>

/// The signature of CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION callbacks.
typedef size_t (*drift_curl_data_callback)(char *data, size_t size, size_t count, void *context);

CURLcode drift_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode drift_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode drift_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode drift_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode drift_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode drift_curl_setopt_callback(CURL *handle, CURLoption option, drift_curl_data_callback value);

CURLcode drift_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);

#endif
