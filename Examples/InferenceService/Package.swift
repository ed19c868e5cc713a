// swift-tools-version: 6.2
import PackageDescription

// A minimal inference service that embeds Driftwatch's `DriftMonitor`. Not built by the root
// package's tests (Hummingbird takes minutes to build); see README.md.
let package = Package(
    name: "InferenceService",
    platforms: [.macOS(.v15)],
    dependencies: [
        // The Driftwatch checkout this example lives in. A path dependency's identity is its
        // directory's name, so the product is looked up by the root package's manifest name.
        .package(name: "Driftwatch", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        .executableTarget(
            name: "InferenceService",
            dependencies: [
                .product(name: "DriftProfiler", package: "Driftwatch"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        )
    ]
)
