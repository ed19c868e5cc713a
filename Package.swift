// swift-tools-version: 6.1
import PackageDescription

// Module boundaries follow docs/architecture.md: lower layers never import higher ones,
// and the `DriftProfiler` product must not pull in the server, PostgreSQL or YAML.
let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Driftwatch",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DriftProfiler", targets: ["Sketches", "Profiles", "Shipping"]),
        .executable(name: "drift", targets: ["drift"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // Pure value types: DataSketches-compatible KLL, HLL, frequent items. stdlib only.
        .target(name: "Sketches", swiftSettings: upcoming),
        // Column and dataset profiles, the Profiler, native and whylogs v1 codecs.
        .target(
            name: "Profiles",
            dependencies: ["Sketches", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: upcoming
        ),
        // libcurl, the HTTP client library (pkg-config `libcurl`).
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]
        ),
        // Typed, non-variadic wrappers for curl_easy_setopt/curl_easy_getinfo (Swift cannot call
        // C variadic functions).
        .target(name: "CCurlShim", dependencies: ["CCurl"], linkerSettings: [.linkedLibrary("curl")]),
        // Edge shipping: durable spool, retries with backoff and jitter, libcurl upload, DriftMonitor.
        .target(
            name: "Shipping",
            dependencies: [
                "Profiles", "CCurlShim",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        // Pure statistics over two profiles: drift distances and tests, data quality, performance.
        .target(name: "Drift", dependencies: ["Profiles", "Sketches"], swiftSettings: upcoming),
        // Renderers shared by the CLI and the server: profile and sketch summaries, drift
        // reports (JSON, Markdown, text).
        .target(name: "Reports", dependencies: ["Drift", "Profiles", "Sketches"], swiftSettings: upcoming),
        // The CLI's commands, in a library so that tests can call them.
        .target(
            name: "DriftCommands",
            dependencies: [
                "Sketches",
                "Profiles",
                "Drift",
                "Reports",
                "Shipping",
                "Storage",
                "Server",
                "Alerting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(name: "drift", dependencies: ["DriftCommands"], swiftSettings: upcoming),
        // libpq, the PostgreSQL client library (pkg-config `libpq`).
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"]), .brew(["libpq"])]),
        // PostgreSQL: connections, pool, COPY, embedded cluster, migrations, repositories.
        .target(
            name: "Storage",
            dependencies: ["Profiles", "CLibPQ"],
            resources: [.copy("Migrations")],
            swiftSettings: upcoming
        ),
        // Alert rules (YAML), the pure evaluator and notification payloads.
        .target(
            name: "Alerting",
            dependencies: ["Profiles", "Storage", "Reports", .product(name: "Yams", package: "Yams")],
            swiftSettings: upcoming
        ),
        // `drift serve`: the Hummingbird 2 application, auth, ingest, rollup and metric services.
        .target(
            name: "Server",
            dependencies: [
                "Profiles", "Drift", "Reports", "Storage", "Shipping", "Alerting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: upcoming
        ),
        // Throughput harness for scripts/bench (compared with Apache DataSketches in the same run).
        .executableTarget(
            name: "SketchBench",
            dependencies: ["Sketches"],
            path: "Benchmarks/SketchBench",
            swiftSettings: upcoming
        ),
        // Profiler throughput harness for scripts/bench (whylogs' per-row logging as the anchor).
        .executableTarget(
            name: "ProfileBench",
            dependencies: ["Profiles", "Shipping"],
            path: "Benchmarks/ProfileBench",
            swiftSettings: upcoming
        ),
        // Drift statistics throughput harness (1,000 profile pairs × 50 columns).
        .executableTarget(
            name: "DriftBench",
            dependencies: ["Drift", "Profiles", "Sketches"],
            path: "Benchmarks/DriftBench",
            swiftSettings: upcoming
        ),
        // Load generator for drift serve (scripts/bench --suite server), with a raw COPY anchor.
        .executableTarget(
            name: "IngestBench",
            dependencies: [
                "Profiles", "Sketches", "Storage", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Benchmarks/IngestBench",
            swiftSettings: upcoming
        ),
        .testTarget(name: "AlertingTests", dependencies: ["Alerting"], swiftSettings: upcoming),
        .testTarget(name: "SketchesTests", dependencies: ["Sketches"], swiftSettings: upcoming),
        .testTarget(name: "ProfilesTests", dependencies: ["Profiles", "Sketches"], swiftSettings: upcoming),
        .testTarget(name: "DriftTests", dependencies: ["Drift", "Profiles", "Sketches"], swiftSettings: upcoming),
        // Test helpers shared by the storage and server tests: a PostgreSQL database per suite.
        .target(
            name: "DriftTestSupport", dependencies: ["Storage", "Profiles", "Sketches"], path: "Tests/TestSupport",
            swiftSettings: upcoming),
        .testTarget(
            name: "StorageTests", dependencies: ["Storage", "Profiles", "DriftTestSupport"], swiftSettings: upcoming),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "Storage", "Profiles", "Drift", "Reports", "Shipping", "DriftTestSupport", "drift",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "ShippingTests",
            dependencies: [
                "Shipping", "Profiles", "Sketches", "drift",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "DriftCommandsTests",
            dependencies: ["DriftCommands", "Reports", "Sketches", "DriftTestSupport", "drift"],
            swiftSettings: upcoming
        ),
    ]
)
