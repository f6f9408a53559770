// swift-tools-version:6.0
// Micro-benchmarks for the Formats library: CRC64 throughput and LZF (de)compression.
// A separate package so the main package's build and tests don't carry it:
//   cd Benchmarks && swift run -c release FormatsBench
// (or Benchmarks/run.sh for the whole comparison against redis-check-rdb).
import PackageDescription

// A path dependency's identity is its folder's name, which is wherever the repository was cloned
// ("main" here, something else in another checkout): derive it instead of hard-coding it.
let mainPackage = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "main")

let package = Package(
    name: "FormatsBenchmarks",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.65.0"),
    ],
    targets: [
        .executableTarget(
            name: "FormatsBench",
            dependencies: [
                .product(name: "Formats", package: mainPackage),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
