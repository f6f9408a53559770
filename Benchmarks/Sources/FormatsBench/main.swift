// FormatsBench: throughput of the Formats library's hot primitives, in a release build.
//
//   swift run -c release FormatsBench [--quick]
//
// Prints one line per figure (first word a stable name, second the number, third its unit), e.g.
//   crc64             3.10 GB/s   256 MiB buffer, best of 5 passes
//   lzf-decompress  812.4 MB/s   ...
//   lzf-compress    301.7 MB/s   ...
// Units are decimal: 1 GB = 10^9 bytes, 1 MB = 10^6 bytes. Exit status 1 if a self-check fails.
//
// The LZF corpus imitates Redis values: chunks of 4-32 KiB, three in four JSON/log-like text (LZF
// compresses it ~2-4x), one in four random bytes (incompressible: Redis stores it raw). Compression
// is timed over every chunk, as Redis's RDB save tries each value over 20 bytes with a limit of
// length - 4; decompression over the chunks that compressed, rated by the bytes it produces.

import Formats
import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

let quick = CommandLine.arguments.contains("--quick")
let crcBytes = (quick ? 32 : 256) << 20
let crcPasses = quick ? 3 : 5
let lzfCorpusBytes = (quick ? 8 : 64) << 20
let lzfRounds = quick ? 3 : 5

/// Deterministic 64-bit generator (splitmix64): the same corpus on every run and machine.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Runs `body` `passes` times and returns the fastest wall time in seconds.
func best(of passes: Int, _ body: () -> Void) -> Double {
    var fastest = Double.infinity
    for _ in 0..<passes {
        let start = now()
        body()
        fastest = min(fastest, now() - start)
    }
    return fastest
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("FormatsBench: self-check failed: \(message)\n".utf8))
    exit(1)
}

func figure(_ name: String, _ value: Double, _ unit: String, _ note: String) {
    let padded = name.padding(toLength: 15, withPad: " ", startingAt: 0)
    let number = String(format: "%9.2f", value)
    print("\(padded) \(number) \(unit)   \(note)")
}

var rng = SplitMix64(state: 0x5eed_2024)

// MARK: CRC64

if CRC64.checksum(Array("123456789".utf8)) != 0xe9c6_d914_c4b8_d9ca {
    fail("CRC64 check value of \"123456789\" is not 0xe9c6d914c4b8d9ca")
}

do {
    var buffer = [UInt8](repeating: 0, count: crcBytes)
    buffer.withUnsafeMutableBytes { raw in
        let words = raw.bindMemory(to: UInt64.self)
        for index in words.indices { words[index] = rng.next() }
    }
    var sink: UInt64 = 0
    let seconds = buffer.withUnsafeBytes { raw in
        best(of: crcPasses) { sink ^= CRC64.update(0, raw) }
    }
    // Sanity: the same bytes through the Sequence entry point give the same value.
    let again = buffer.withUnsafeBytes { CRC64.update(0, $0) }
    if again != CRC64.checksum(buffer) { fail("CRC64.update and CRC64.checksum disagree") }
    figure("crc64", Double(crcBytes) / seconds / 1e9, "GB/s",
           "\(crcBytes >> 20) MiB buffer, best of \(crcPasses) passes (\(String(format: "%.3f", seconds)) s/pass, crc \(String(sink, radix: 16)))")
}

// MARK: LZF corpus

let words: [[UInt8]] = """
    the of and to in is was for on that with as by at from user session order payment cart item product \
    price total status pending shipped delivered error warning info debug request response latency \
    timeout retry cache hit miss token expired account email address city country region name value \
    count index offset limit page cursor created updated deleted active inactive enabled disabled
    """.split(separator: " ").map { Array($0.utf8) }

func textChunk(_ count: Int, _ rng: inout SplitMix64) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(count + 128)
    while out.count < count {
        out += Array("{\"".utf8) + words[rng.next(below: words.count)] + Array("\":\"".utf8)
            + words[rng.next(below: words.count)] + Array("\",\"id\":".utf8)
            + Array(String(rng.next(below: 1_000_000_000)).utf8) + Array(",\"msg\":\"".utf8)
        for index in 0..<(4 + rng.next(below: 8)) {
            if index > 0 { out.append(UInt8(ascii: " ")) }
            out += words[rng.next(below: words.count)]
        }
        out += Array("\"}\n".utf8)
    }
    return Array(out.prefix(count))
}

func randomChunk(_ count: Int, _ rng: inout SplitMix64) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    for index in out.indices { out[index] = UInt8(truncatingIfNeeded: rng.next()) }
    return out
}

var chunks: [ByteBuffer] = []
var corpusBytes = 0
var textBytes = 0
while corpusBytes < lzfCorpusBytes {
    let count = 4096 + rng.next(below: 32768 - 4096 + 1)
    let isText = rng.next(below: 4) != 3
    let bytes = isText ? textChunk(count, &rng) : randomChunk(count, &rng)
    if isText { textBytes += count }
    chunks.append(ByteBuffer(bytes: bytes))
    corpusBytes += count
}

// MARK: LZF compression (every chunk, Redis's limit of length - 4)

var compressed: [(data: ByteBuffer, original: Int)] = []
var compressedBytes = 0
for chunk in chunks {
    if let packed = LZF.compress(chunk, maximumCount: chunk.readableBytes - 4) {
        compressed.append((packed, chunk.readableBytes))
        compressedBytes += packed.readableBytes
    }
}
if compressed.isEmpty { fail("no chunk compressed") }

// Round trip: every compressed chunk decodes to its original.
do {
    var next = 0
    for chunk in chunks {
        guard let packed = LZF.compress(chunk, maximumCount: chunk.readableBytes - 4) else { continue }
        let restored: ByteBuffer
        do {
            restored = try LZF.decompress(packed, uncompressedCount: chunk.readableBytes)
        } catch {
            fail("LZF.decompress threw \(error)")
        }
        if restored != chunk { fail("LZF round trip changed chunk \(next)") }
        next += 1
    }
}

let compressSeconds = best(of: lzfRounds) {
    var produced = 0
    for chunk in chunks {
        produced &+= LZF.compress(chunk, maximumCount: chunk.readableBytes - 4)?.readableBytes ?? 0
    }
    if produced != compressedBytes { fail("LZF.compress is not deterministic") }
}

let decompressedBytes = compressed.reduce(0) { $0 + $1.original }
let decompressSeconds = best(of: lzfRounds) {
    var produced = 0
    for (data, original) in compressed {
        do {
            produced &+= try LZF.decompress(data, uncompressedCount: original).readableBytes
        } catch {
            fail("LZF.decompress threw \(error)")
        }
    }
    if produced != decompressedBytes { fail("LZF.decompress produced \(produced) bytes, expected \(decompressedBytes)") }
}

let mib = { (bytes: Int) in String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
figure("lzf-decompress", Double(decompressedBytes) / decompressSeconds / 1e6, "MB/s",
       "\(compressed.count) chunks, \(mib(compressedBytes)) -> \(mib(decompressedBytes)) (ratio \(String(format: "%.2f", Double(decompressedBytes) / Double(compressedBytes)))), best of \(lzfRounds), rated by output bytes")
figure("lzf-compress", Double(corpusBytes) / compressSeconds / 1e6, "MB/s",
       "\(chunks.count) chunks of 4-32 KiB, \(mib(corpusBytes)) (\(Int((Double(textBytes) / Double(corpusBytes) * 100).rounded()))% text, rest random; \(compressed.count) compressed), best of \(lzfRounds), rated by input bytes")
