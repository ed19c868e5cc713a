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
        .library(name: "DriftProfiler", targets: ["Sketches", "Profiles"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .target(name: "Sketches", swiftSettings: upcoming),
        // Column and dataset profiles, the Profiler, native and whylogs v1 codecs.
        .target(
            name: "Profiles",
            dependencies: ["Sketches", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: upcoming
        ),
        .testTarget(name: "SketchesTests", dependencies: ["Sketches"], swiftSettings: upcoming),
        .testTarget(name: "ProfilesTests", dependencies: ["Profiles", "Sketches"], swiftSettings: upcoming),
    ]
)
