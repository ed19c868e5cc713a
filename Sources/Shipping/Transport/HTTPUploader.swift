internal import CCurlShim
import Profiles
internal import Synchronization

/// One HTTP response: status, header fields and body.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header fields by lowercased name; a repeated field keeps its last value.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The value of a header field (case-insensitive name).
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// How an ``HTTPUploader`` connects. Plain data; the defaults suit an inference service
/// shipping a few profiles a minute.
public struct HTTPUploaderConfiguration: Sendable {
    /// Longest wait for the TCP (and TLS) connection. Default 5 s.
    public var connectTimeout: Duration
    /// Longest a whole request may take, connection included. Default 60 s.
    public var totalTimeout: Duration
    public var userAgent: String
    /// Response bodies longer than this fail the request (the server's answers are small JSON).
    public var maxResponseBytes: Int
    /// A PEM bundle of trusted CAs; nil uses the system's store. Verification is always on.
    public var caBundlePath: String?

    public init(
        connectTimeout: Duration = .seconds(5), totalTimeout: Duration = .seconds(60),
        userAgent: String = "driftwatch-shipping/0.1", maxResponseBytes: Int = 1 << 20, caBundlePath: String? = nil
    ) {
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.userAgent = userAgent
        self.maxResponseBytes = maxResponseBytes
        self.caBundlePath = caBundlePath
    }
}

/// POSTs bytes over HTTP(S) with libcurl's easy interface.
///
/// TLS peer and host verification are always on; libcurl's own handling of `http_proxy`,
/// `https_proxy` and `no_proxy` applies (nothing here overrides it). Redirects are not
/// followed: an upload that is redirected reports the 3xx status.
///
/// ``post(_:body:headers:timeout:)`` blocks the calling thread; ``send(_:body:headers:timeout:)``
/// runs the same call on a dedicated thread so that Swift concurrency's cooperative threads
/// never wait on the network. One easy handle is kept between calls so that the connection
/// is reused.
public final class HTTPUploader: Sendable {
    public let configuration: HTTPUploaderConfiguration
    /// An idle easy handle kept for connection reuse (nil while in use or not yet created).
    private let idle: Mutex<EasyHandle?>
    private let worker: BlockingWorker

    public init(configuration: HTTPUploaderConfiguration = .init()) {
        CurlGlobal.ensureInitialized()
        self.configuration = configuration
        self.idle = Mutex(nil)
        self.worker = BlockingWorker(name: "driftwatch-http")
    }

    deinit {
        worker.stop()
    }

    /// POSTs `body` to `url` on a dedicated thread and returns the response.
    ///
    /// - Throws: ``TransportError`` when no HTTP response arrived (connection refused, timeout,
    ///   TLS failure, malformed URL).
    public func send(
        _ url: String, body: [UInt8], headers: [(String, String)], timeout: Duration? = nil
    ) async throws(TransportError) -> HTTPResponse {
        let result: Result<HTTPResponse, TransportError> = await withCheckedContinuation { continuation in
            let queued = worker.submit {
                do throws(TransportError) {
                    continuation.resume(
                        returning: .success(try self.post(url, body: body, headers: headers, timeout: timeout)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            if !queued {  // only after deinit began; never leave the caller waiting
                continuation.resume(returning: .failure(TransportError(.invalidRequest, "the uploader is shut down")))
            }
        }
        return try result.get()
    }

    /// POSTs `body` to `url`, blocking the calling thread until the response or an error.
    ///
    /// - Parameter timeout: a total timeout shorter than the configured one (e.g. what is left
    ///   of a shutdown deadline).
    /// - Throws: ``TransportError`` when no HTTP response arrived.
    public func post(
        _ url: String, body: [UInt8], headers: [(String, String)], timeout: Duration? = nil
    ) throws(TransportError) -> HTTPResponse {
        try request("POST", url, body: body, headers: headers, timeout: timeout)
    }

    /// Sends one request (`GET`, `POST`, `PUT` or `DELETE`), blocking the calling thread: the
    /// CLI's API client (`drift baseline`). Same timeouts and TLS rules as uploads.
    ///
    /// - Throws: ``TransportError`` when no HTTP response arrived.
    public func request(
        _ method: String, _ url: String, body: [UInt8] = [], headers: [(String, String)] = [],
        timeout: Duration? = nil
    ) throws(TransportError) -> HTTPResponse {
        guard ["GET", "POST", "PUT", "DELETE"].contains(method) else {
            throw TransportError(.invalidRequest, "unsupported HTTP method \(method)")
        }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw TransportError(.invalidRequest, "URL '\(url)' is not http:// or https://")
        }
        let handle: EasyHandle
        if let reused = idle.withLock({ (slot: inout EasyHandle?) -> EasyHandle? in
            let taken = slot
            slot = nil
            return taken
        }) {
            handle = reused
        } else if let created = EasyHandle() {
            handle = created
        } else {
            throw TransportError(.other, "curl_easy_init failed")
        }
        let total = min(timeout ?? configuration.totalTimeout, configuration.totalTimeout)
        let result = handle.perform(
            method: method, url: url, body: body, headers: headers, total: total, configuration: configuration)
        handle.reset()
        idle.withLock { (slot: inout EasyHandle?) in
            if slot == nil { slot = handle }  // otherwise `handle` is released and cleaned up
        }
        return try result.get()
    }
}

/// Runs libcurl's process-wide initialisation once, before the first handle.
enum CurlGlobal {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_SSL | CURL_GLOBAL_WIN32)) == CURLE_OK
    }()

    static func ensureInitialized() {
        _ = initialized
    }
}

extension Duration {
    /// Whole milliseconds, at least 1 (libcurl reads 0 as "no timeout").
    var curlMilliseconds: Int {
        let (seconds, attoseconds) = components
        let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Swift.max(1, Int(clamping: ms))
    }
}
