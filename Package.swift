// swift-tools-version:6.1
import PackageDescription

// MARK: - Targets
//
// Data flows one way: ImageCore (pure Swift: image, codecs, kernels, band plan) and MPIKit
// (the only Swift that imports CMPI) <- SPMDEngine (the driver: read, scatter, halos, filter,
// encode, gather, write, with timing and the ranks' agreement) <- bandsaw (the command line).
// CPNG is the one door to libpng: every libpng call, and every setjmp, lives in C. CCodecs is
// the one door to libjpeg(-turbo), libtiff and libwebp, in the same way. CKernels holds the AVX2
// kernels, each compiled for AVX2 by a function attribute and called only when the CPU has it.

let package = Package(
    name: "bandsaw",
    products: [
        .executable(name: "bandsaw", targets: ["bandsaw"]),
        .executable(name: "bandsaw-bench", targets: ["bandsaw-bench"]),
        .library(name: "ImageCore", targets: ["ImageCore"]),
        .library(name: "MPIKit", targets: ["MPIKit"]),
        .library(name: "SPMDEngine", targets: ["SPMDEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
    ],
    targets: [
        // MARK: - C doors
        .systemLibrary(
            name: "CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]
        ),
        .target(
            name: "CPNG",
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("z"), .linkedLibrary("deflate")]
        ),
        .target(
            name: "CCodecs",
            linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("tiff"), .linkedLibrary("webp")]
        ),

        // Vector kernels (AVX2) behind run-time CPU dispatch; ImageCore's Swift kernels are the
        // portable path and the reference.
        .target(name: "CKernels"),

        // MARK: - Libraries
        .target(name: "ImageCore", dependencies: ["CPNG", "CCodecs", "CKernels"], linkerSettings: [.linkedLibrary("m")]),
        .target(name: "MPIKit", dependencies: ["CMPI"]),
        .target(name: "SPMDEngine", dependencies: ["ImageCore", "MPIKit"]),
        // The HTTP side of `bandsaw serve` (rank 0 only): routes, limits, metrics, the web page.
        // It hands jobs to the MPI thread through a bounded queue and never calls MPI itself.
        .target(
            name: "BandsawService",
            dependencies: [
                "ImageCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        // MARK: - Executable
        .executableTarget(
            name: "bandsaw",
            dependencies: [
                "ImageCore", "MPIKit", "SPMDEngine", "BandsawService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .executableTarget(name: "bandsaw-bench", dependencies: ["ImageCore"]),
        // MPIKit's own checks, run under mpirun by the tests (MPIKitTests).
        .executableTarget(name: "mpikit-checks", dependencies: ["ImageCore", "MPIKit"]),

        // MARK: - Tests
        .testTarget(
            name: "ImageCoreTests",
            dependencies: [
                "ImageCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(name: "EndToEndTests", dependencies: ["ImageCore"]),
    ]
)
