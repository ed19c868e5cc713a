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
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
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
        // The CLI's commands, in a library so that tests can call them.
        .target(
            name: "DriftCommands",
            dependencies: [
                "Sketches",
                "Profiles",
                "Drift",
                "Shipping",
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
        .testTarget(name: "SketchesTests", dependencies: ["Sketches"], swiftSettings: upcoming),
        .testTarget(name: "ProfilesTests", dependencies: ["Profiles", "Sketches"], swiftSettings: upcoming),
        .testTarget(name: "DriftTests", dependencies: ["Drift", "Profiles", "Sketches"], swiftSettings: upcoming),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "Profiles"], swiftSettings: upcoming),
        .testTarget(
            name: "ShippingTests",
            dependencies: [
                "Shipping", "Profiles", "drift",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "DriftCommandsTests",
            dependencies: ["DriftCommands", "Sketches", "drift"],
            swiftSettings: upcoming
        ),
    ]
)
