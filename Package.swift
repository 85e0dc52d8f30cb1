// swift-tools-version:6.1
import PackageDescription

// MARK: - Targets
//
// Data flows one way: ImageCore (the vocabulary: image, band, band plan, errors, format names)
// <- ImageCodecs (PNG, PNM, JPEG, TIFF, WebP, EXIF, file I/O) and ImageFilters (kernels,
// pipeline, registry, SIMD paths); MPIKit (the only Swift that imports CMPI) <- SPMDEngine (the
// driver: read, scatter, halos, filter, encode, gather, write, with timing and the ranks'
// agreement) <- bandsaw (the command line). BandsawService (the HTTP side of `bandsaw serve`,
// on Hummingbird; no MPI) <- bandsaw, whose serve command runs the MPI side.
// CPNG is the one door to libpng: every libpng call, and every setjmp, lives in C. CCodecs is
// the one door to libjpeg(-turbo), libtiff and libwebp, in the same way. CKernels holds the AVX2
// kernels, each compiled for AVX2 by a function attribute and called only when the CPU has it.
// Both codec doors return one family of status codes, CStatus's CSTATUS_*.

let package = Package(
    name: "bandsaw",
    products: [
        .executable(name: "bandsaw", targets: ["bandsaw"]),
        .executable(name: "bandsaw-bench", targets: ["bandsaw-bench"]),
        .library(name: "ImageCore", targets: ["ImageCore"]),
        .library(name: "ImageCodecs", targets: ["ImageCodecs"]),
        .library(name: "ImageFilters", targets: ["ImageFilters"]),
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
        // The one status family (cstatus.h) both codec doors return and Swift maps once.
        .target(name: "CStatus"),
        .target(
            name: "CPNG",
            dependencies: ["CStatus"],
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("z"), .linkedLibrary("deflate")]
        ),
        .target(
            name: "CCodecs",
            dependencies: ["CStatus"],
            linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("tiff"), .linkedLibrary("webp")]
        ),

        // Vector kernels (AVX2) behind run-time CPU dispatch; ImageFilters' Swift kernels are the
        // portable path and the reference.
        .target(name: "CKernels"),

        // MARK: - Libraries
        .target(name: "ImageCore"),
        .target(name: "ImageCodecs", dependencies: ["ImageCore", "CStatus", "CPNG", "CCodecs"]),
        .target(name: "ImageFilters", dependencies: ["ImageCore", "CKernels"], linkerSettings: [.linkedLibrary("m")]),
        .target(name: "MPIKit", dependencies: ["CMPI"]),
        .target(name: "SPMDEngine", dependencies: ["ImageCore", "ImageCodecs", "ImageFilters", "MPIKit"]),
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
                "ImageCore", "ImageCodecs", "ImageFilters", "MPIKit", "SPMDEngine", "BandsawService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .executableTarget(
            name: "bandsaw-bench",
            dependencies: [
                "ImageCore", "ImageCodecs", "ImageFilters",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // MPIKit's own checks, run under mpirun by the tests (MPIKitTests).
        .executableTarget(name: "mpikit-checks", dependencies: ["ImageCore", "MPIKit"]),

        // MARK: - Tests
        // What every test target shares: the test images and their generators, the harness that
        // runs the built executable, the one mpirun command builder and the needs-mpirun trait.
        // A regular target, in no product.
        .target(
            name: "TestSupport",
            dependencies: [
                "ImageCore", "ImageFilters",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "ImageCoreTests",
            dependencies: [
                "ImageCore", "ImageCodecs", "ImageFilters", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        // The real engine on an in-process world of threads: no mpirun needed.
        .testTarget(
            name: "SPMDEngineTests",
            dependencies: [
                "SPMDEngine", "ImageCore", "ImageCodecs", "ImageFilters", "MPIKit", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(name: "EndToEndTests", dependencies: ["ImageCore", "ImageCodecs", "ImageFilters", "TestSupport"]),
    ]
)
