import Storage
import Synchronization

/// Group commit for uploads: concurrent requests are committed together, in transactions of up
/// to ``batchSize`` uploads, by at most ``concurrency`` transactions at a time. A request
/// returns only after its transaction committed (acknowledged means committed). With no
/// contention a request is committed alone at once; under load, uploads that arrive while the
/// transactions are busy share the next one (one WAL flush for many).
///
/// A batch that fails is retried one upload at a time, so one refused upload (e.g. a window
/// outside the years 1–9999) fails only its own request.
final class IngestQueue: Sendable {
    typealias Request = ProfileStore.IngestRequest
    typealias Waiter = CheckedContinuation<IngestResult, any Error>

    let store: ProfileStore
    let batchSize: Int
    let concurrency: Int
    private let state = Mutex<State>(State())

    private struct State {
        var pending: [(Request, Waiter)] = []
        var running = 0
    }

    init(store: ProfileStore, batchSize: Int, concurrency: Int) {
        self.store = store
        self.batchSize = batchSize
        self.concurrency = concurrency
    }

    /// Stores `request`; returns once it is committed.
    func submit(_ request: Request) async throws -> IngestResult {
        try await withCheckedThrowingContinuation { (waiter: Waiter) in
            let start = state.withLock { state -> Bool in
                state.pending.append((request, waiter))
                guard state.running < concurrency else { return false }
                state.running += 1
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    /// Commits batches until nothing is pending.
    private func drain() async {
        while true {
            let batch = state.withLock { state -> [(Request, Waiter)] in
                let batch = Array(state.pending.prefix(batchSize))
                state.pending.removeFirst(batch.count)
                if batch.isEmpty { state.running -= 1 }
                return batch
            }
            if batch.isEmpty { return }
            await commit(batch)
        }
    }

    private func commit(_ batch: [(Request, Waiter)]) async {
        do {
            let results = try await ingestRetrying(batch.map(\.0))
            for ((_, waiter), result) in zip(batch, results) { waiter.resume(returning: result) }
        } catch {
            guard batch.count > 1 else {
                batch[0].1.resume(throwing: error)
                return
            }
            for (request, waiter) in batch {
                do {
                    waiter.resume(returning: try await ingestRetrying([request])[0])
                } catch {
                    waiter.resume(throwing: error)
                }
            }
        }
    }

    /// Stores a batch, retrying transient failures (a broken connection, the server restarting,
    /// a deadlock) three times with growing pauses. Retrying is safe: an upload committed
    /// before the connection broke is found again by its upload id and reported as a duplicate.
    private func ingestRetrying(_ requests: [Request]) async throws -> [IngestResult] {
        var pause: Duration = .milliseconds(100)
        for _ in 0..<3 {
            do {
                return try await store.ingest(requests)
            } catch let error as StorageError where error.isTransient {
                try? await Task.sleep(for: pause)
                pause *= 3
            }
        }
        return try await store.ingest(requests)
    }
}
