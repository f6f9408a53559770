// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    // The tools drive the generic reader from other modules: without cross-module optimization every call
    // would go through unspecialized generics (measured: a quarter of the checker's time in metadata lookups).
    // Exclusivity checks cost several percent in the reader's inner loops; the code has no overlapping accesses
    // that they would catch at run time (debug builds and tests keep them on).
    .unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "redis-persistence",
    products: [
        .library(name: "Formats", targets: ["Formats"]),
        .executable(name: "redis-check-dump", targets: ["CheckDump"]),
        .executable(name: "redis-convert", targets: ["Convert"]),
        .library(name: "JSONRecords", targets: ["JSONRecords"]),
        .executable(name: "redis-check-aof", targets: ["CheckAOF"]),
        .library(name: "Keyspace", targets: ["Keyspace"]),
        .executable(name: "redis-server", targets: ["Server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.65.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLZF",
            pkgConfig: "liblzf",
            providers: [.apt(["liblzf-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "Formats",
            dependencies: [
                "CLZF",
                "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Keyspace",
            dependencies: [
                "Formats",
                .product(name: "HashTreeCollections", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Server",
            dependencies: [
                "Formats",
                "Keyspace",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KeyspaceTests",
            dependencies: [
                "Keyspace", "Formats", "TestSupport",
                .product(name: "HashTreeCollections", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "Keyspace", "Formats", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ToolSupport",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "CheckDump",
            dependencies: [
                "Formats",
                "ToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "CheckAOF",
            dependencies: [
                "Formats",
                "ToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                "Formats",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        // The JSON and JSON Lines reader (and the byte-string scheme the writer shares), a library of its own so
        // that the fuzz package can drive it.
        .target(
            name: "JSONRecords",
            dependencies: [
                "Formats",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Convert",
            dependencies: [
                "Formats",
                "JSONRecords",
                "Keyspace",
                .product(name: "HashTreeCollections", package: "swift-collections"),
                "ToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FormatsTests",
            dependencies: [
                "Formats",
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ToolsTests",
            dependencies: [
                "CheckDump", "Convert", "CheckAOF", "TestSupport", "Formats",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
