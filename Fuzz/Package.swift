// swift-tools-version:6.0
// libFuzzer targets for every decoder that reads untrusted bytes (issue #7). A separate package, built with
// `-sanitize=fuzzer,address` by Fuzz/run.sh (or `make fuzz`), so that the main package's builds stay plain.
//
//   Fuzz/run.sh [SECONDS_PER_TARGET] [TARGET…]
import PackageDescription

// A path dependency's identity is its folder's name (see Benchmarks/Package.swift).
let mainPackage = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "main")

// SwiftPM renames an executable's `main` to `<Target>_main`; each target defines that symbol itself and hands
// control to libFuzzer's driver, so top-level code is not wanted.
let settings: [SwiftSetting] = [.swiftLanguageMode(.v6), .unsafeFlags(["-parse-as-library"])]

func fuzzTarget(_ name: String, _ products: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzSupport"] + products.map { .product(name: $0, package: mainPackage) }
            + [.product(name: "NIOCore", package: "swift-nio")],
        swiftSettings: settings
    )
}

let package = Package(
    name: "Fuzz",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.65.0"),
    ],
    targets: [
        .target(name: "FuzzSupport", swiftSettings: [.swiftLanguageMode(.v6)]),
        fuzzTarget("FuzzRDB", ["Formats", "Keyspace"]),
        fuzzTarget("FuzzAOF", ["Formats"]),
        fuzzTarget("FuzzRESP", ["Formats"]),
        fuzzTarget("FuzzRestore", ["Formats", "Keyspace"]),
        fuzzTarget("FuzzJSON", ["Formats", "JSONRecords"]),
    ]
)
