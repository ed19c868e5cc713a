import Foundation
import Shipping
import Testing

@Suite struct UploaderTests {
    @Test func postsTheBytesWithHeadersAndReadsTheAnswer() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let body: [UInt8] = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let uploader = HTTPUploader()
        let response = try await uploader.send(
            server.url + "/v1/profiles", body: body,
            headers: [
                ("Authorization", "Bearer s3cret"), ("Idempotency-Key", "key-1"),
                ("Content-Type", "application/octet-stream"),
            ])
        #expect(response.status == 202)
        #expect(UploadReceipt(response) == UploadReceipt(id: "key-1", duplicate: false))
        #expect(response.header("Content-Type") == "application/json")
        let request = try #require(server.requests.first)
        #expect(request.method == "POST" && request.path == "/v1/profiles")
        #expect(request.body == body)
        #expect(request.headers["authorization"] == "Bearer s3cret")
        #expect(request.headers["idempotency-key"] == "key-1")
        #expect(request.headers["content-type"] == "application/octet-stream")
        #expect(request.headers["expect"] == nil)  // no 100-continue round trip
        // The same body again: the server reports the duplicate; the connection is reused.
        let again = try uploader.post(server.url + "/v1/profiles", body: body, headers: [("Idempotency-Key", "key-1")])
        #expect(UploadReceipt(again)?.duplicate == true)
        #expect(server.connections == 1)
    }

    @Test func readsErrorStatusesAndRetryAfter() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        server.behave { _, _ in
            .error(status: 429, code: "rate_limited", message: "slow down", headers: [("Retry-After", "7")])
        }
        let response = try HTTPUploader().post(server.url + "/v1/profiles", body: [1, 2, 3], headers: [])
        #expect(response.status == 429)
        #expect(response.header("retry-after") == "7")
        #expect(ServerError.message(of: response) == "HTTP 429 rate_limited: slow down")
    }

    @Test func aClosedPortIsCouldNotConnect() throws {
        let server = try TestHTTPServer()
        let url = server.url
        server.stop()
        do {
            _ = try HTTPUploader().post(url + "/v1/profiles", body: [1], headers: [])
            Issue.record("expected a transport error")
        } catch {
            #expect(error.kind == .couldNotConnect, "\(error)")
            #expect(!error.mayHaveReachedServer)
        }
    }

    @Test func aSlowServerHitsTheTotalTimeout() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        server.behave { _, _ in .slow(seconds: 3, then: .accept) }
        let uploader = HTTPUploader(configuration: .init(totalTimeout: .milliseconds(300)))
        do {
            _ = try uploader.post(server.url + "/v1/profiles", body: [1], headers: [("Idempotency-Key", "k")])
            Issue.record("expected a timeout")
        } catch {
            #expect(error.kind == .timedOut, "\(error)")
            #expect(error.mayHaveReachedServer)  // the request was sent: a retry relies on the key
        }
        #expect(server.committed.isEmpty)
    }

    @Test func refusesBadURLsAndHeaders() {
        let uploader = HTTPUploader()
        #expect(throws: TransportError.self) { try uploader.post("ftp://127.0.0.1/x", body: [], headers: []) }
        do {
            _ = try uploader.post("http://127.0.0.1:9/x", body: [], headers: [("X-Evil", "a\r\nInjected: 1")])
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .invalidRequest)
        }
    }
}
