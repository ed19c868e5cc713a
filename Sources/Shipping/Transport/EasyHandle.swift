internal import CCurlShim

/// One libcurl easy handle. Used by one thread at a time: ``HTTPUploader`` takes it out of its
/// idle slot (under a lock) before use and puts it back after, which is why the unchecked
/// `Sendable` is safe.
final class EasyHandle: @unchecked Sendable {
    private let raw: UnsafeMutableRawPointer

    init?() {
        guard let raw = curl_easy_init() else { return nil }
        self.raw = raw
    }

    deinit {
        curl_easy_cleanup(raw)
    }

    /// Forgets every option (keeps the connection cache).
    func reset() {
        curl_easy_reset(raw)
    }

    /// Performs one request. `method` is `POST` (the upload path), `PUT` or `DELETE` (sent
    /// with the body) or `GET` (no body).
    func perform(
        method: String, url: String, body: [UInt8], headers: [(String, String)], total: Duration,
        configuration: HTTPUploaderConfiguration
    ) -> Result<HTTPResponse, TransportError> {
        var list: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(list) }
        for (name, value) in headers {
            // By bytes: "\r\n" is one Character in Swift, so a Character comparison would miss it.
            guard !name.isEmpty, !name.utf8.contains(UInt8(ascii: ":")),
                !"\(name)\(value)".utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 })
            else {
                return .failure(TransportError(.invalidRequest, "header '\(name)' has a line break, NUL or colon"))
            }
            list = curl_slist_append(list, "\(name): \(value)")
        }
        // Without this, libcurl sends `Expect: 100-continue` for large bodies and waits for the
        // interim response; the server reads whole bodies anyway.
        list = curl_slist_append(list, "Expect:")

        let collector = ResponseCollector(limit: configuration.maxResponseBytes)
        let context = Unmanaged.passRetained(collector)
        defer { context.release() }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let payload = body.isEmpty ? [0] : body

        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errors in
            payload.withUnsafeBytes { bytes in
                var ok = true
                func set(_ result: CURLcode) { ok = ok && result == CURLE_OK }
                set(drift_curl_setopt_pointer(raw, CURLOPT_ERRORBUFFER, errors.baseAddress))
                set(drift_curl_setopt_string(raw, CURLOPT_URL, url))
                set(drift_curl_setopt_string(raw, CURLOPT_PROTOCOLS_STR, "http,https"))
                set(drift_curl_setopt_long(raw, CURLOPT_NOSIGNAL, 1))
                if method == "GET" {
                    set(drift_curl_setopt_long(raw, CURLOPT_HTTPGET, 1))
                } else {
                    set(drift_curl_setopt_long(raw, CURLOPT_POST, 1))
                    set(drift_curl_setopt_off_t(raw, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
                    // POSTFIELDS does not copy: `bytes` stays valid until curl_easy_perform returns.
                    set(
                        drift_curl_setopt_pointer(
                            raw, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress)))
                    if method != "POST" { set(drift_curl_setopt_string(raw, CURLOPT_CUSTOMREQUEST, method)) }
                }
                set(drift_curl_setopt_slist(raw, CURLOPT_HTTPHEADER, list))
                set(
                    drift_curl_setopt_long(
                        raw, CURLOPT_CONNECTTIMEOUT_MS, configuration.connectTimeout.curlMilliseconds))
                set(drift_curl_setopt_long(raw, CURLOPT_TIMEOUT_MS, total.curlMilliseconds))
                set(drift_curl_setopt_long(raw, CURLOPT_SSL_VERIFYPEER, 1))
                set(drift_curl_setopt_long(raw, CURLOPT_SSL_VERIFYHOST, 2))
                set(drift_curl_setopt_long(raw, CURLOPT_FOLLOWLOCATION, 0))
                set(drift_curl_setopt_string(raw, CURLOPT_USERAGENT, configuration.userAgent))
                if let ca = configuration.caBundlePath { set(drift_curl_setopt_string(raw, CURLOPT_CAINFO, ca)) }
                set(drift_curl_setopt_callback(raw, CURLOPT_WRITEFUNCTION, writeBody))
                set(drift_curl_setopt_pointer(raw, CURLOPT_WRITEDATA, context.toOpaque()))
                set(drift_curl_setopt_callback(raw, CURLOPT_HEADERFUNCTION, writeHeader))
                set(drift_curl_setopt_pointer(raw, CURLOPT_HEADERDATA, context.toOpaque()))
                guard ok else { return CURLE_BAD_FUNCTION_ARGUMENT }
                return curl_easy_perform(raw)
            }
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            return .failure(TransportError(Self.kind(of: code, overflow: collector.overflow), "\(message) (\(url))"))
        }
        var status = 0
        _ = drift_curl_getinfo_long(raw, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, headers: collector.headers, body: collector.body))
    }

    private static func kind(of code: CURLcode, overflow: Bool) -> TransportError.Kind {
        switch code {
        case CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT: return .couldNotConnect
        case CURLE_OPERATION_TIMEDOUT: return .timedOut
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
            return .tls
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_BAD_FUNCTION_ARGUMENT: return .invalidRequest
        case CURLE_WRITE_ERROR where overflow: return .responseTooLarge
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE: return .connectionLost
        default: return .other
        }
    }
}

/// Collects the response of one transfer; reached from libcurl's C callbacks through an
/// `Unmanaged` pointer, on the thread running `curl_easy_perform`.
private final class ResponseCollector {
    let limit: Int
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    var overflow = false

    init(limit: Int) {
        self.limit = limit
    }

    func append(_ data: UnsafeBufferPointer<UInt8>) -> Bool {
        guard body.count + data.count <= limit else {
            overflow = true
            return false
        }
        body.append(contentsOf: data)
        return true
    }

    func header(_ line: String) {
        let trimmed = line.trimmingWhitespace()
        if trimmed.hasPrefix("HTTP/") {
            headers.removeAll()  // a new response (after 100 Continue or a redirect) starts over
            return
        }
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        let name = trimmed[..<colon].lowercased()
        headers[name] = String(trimmed[trimmed.index(after: colon)...]).trimmingWhitespace()
    }
}

private let writeBody: drift_curl_data_callback = { data, size, count, context in
    guard let context else { return 0 }
    let collector = Unmanaged<ResponseCollector>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    guard length > 0, let data else { return length }
    let ok = data.withMemoryRebound(to: UInt8.self, capacity: length) {
        collector.append(UnsafeBufferPointer(start: $0, count: length))
    }
    return ok ? length : 0  // a short count makes libcurl stop with CURLE_WRITE_ERROR
}

private let writeHeader: drift_curl_data_callback = { data, size, count, context in
    guard let context else { return 0 }
    let collector = Unmanaged<ResponseCollector>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    guard length > 0, let data else { return length }
    let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
    }
    collector.header(line)
    return length
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        var text = String(self)[...]
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
