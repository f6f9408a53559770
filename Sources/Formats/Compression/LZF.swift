// LZF, through the system liblzf (Debian liblzf-dev). Stream layout (lzf_d.c):
//
//   000LLLLL <L+1 literal bytes>                 literal run of 1..32 bytes
//   LLLooooo oooooooo                            back reference, length L+2 (3..8), distance o+1
//   111ooooo LLLLLLLL oooooooo                   back reference, length L+9 (9..264), distance o+1
//
// In an RDB (since version 1): 0xC3, LEN compressed size, LEN uncompressed size, compressed bytes.
// liblzf takes `unsigned int` lengths, so every size is checked against UInt32 before the call.

import CLZF
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// LZF compression as Redis uses it for strings and quicklist nodes.
public enum LZF {
    /// The most an LZF stream expands: a back reference of 3 bytes (`111ooooo LLLLLLLL oooooooo`) copies
    /// 7 + 255 + 2 = 264 bytes, and literals never expand.
    static let maximumExpansion = 88

    /// Decompresses `input` into exactly `uncompressedCount` bytes.
    ///
    /// - Throws: `.corrupt` when the stream is invalid (liblzf's EINVAL) or decodes to a size other than
    ///   `uncompressedCount` (E2BIG, or a short result); `.limitExceeded` when a size is beyond liblzf's range.
    ///   The error's offset is 0: callers rebase it to where the compressed string started.
    public static func decompress(_ input: ByteBuffer, uncompressedCount: Int) throws(FormatError) -> ByteBuffer {
        var output = ByteBuffer()
        try decompress(input, uncompressedCount: uncompressedCount, into: &output)
        return output
    }

    /// ``decompress(_:uncompressedCount:)`` into `output`, which is cleared first: its storage is reused when
    /// nothing else references it and it is large enough (`clear(minimumCapacity:)`), so that a caller decoding
    /// many short strings one after the other allocates once instead of once per string.
    public static func decompress(
        _ input: ByteBuffer, uncompressedCount: Int, into output: inout ByteBuffer
    ) throws(FormatError) {
        guard input.readableBytes <= Int(UInt32.max), uncompressedCount <= Int(UInt32.max) else {
            throw FormatError(.limitExceeded, offset: 0, "LZF sizes beyond 4 GiB are not supported by liblzf")
        }
        if uncompressedCount == 0 {
            guard input.readableBytes == 0 else {
                throw FormatError(.corrupt, offset: 0, "invalid LZF payload: uncompressed size 0 with data")
            }
            output.clear()
            return
        }
        // A length from the file is checked before it is allocated: no LZF stream expands more than 88 times
        // (a 3-byte back reference copies at most 264 bytes), so a larger claim is corrupt whatever follows.
        guard uncompressedCount / maximumExpansion <= input.readableBytes else {
            throw FormatError(
                .corrupt, offset: 0,
                "invalid LZF payload: \(input.readableBytes) compressed bytes cannot decode to \(uncompressedCount)")
        }
        output.clear(minimumCapacity: uncompressedCount)
        var decoded = 0
        var failure: Int32 = 0
        _ = input.withUnsafeReadableBytes { source in
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: uncompressedCount) { target in
                guard let sourceBase = source.baseAddress, let targetBase = target.baseAddress else { return 0 }
                errno = 0
                let result = lzf_decompress(sourceBase, UInt32(source.count), targetBase, UInt32(uncompressedCount))
                if result == 0 { failure = errno }
                decoded = Int(result)
                return Int(result)
            }
        }
        guard decoded == uncompressedCount else {
            let reason = failure == E2BIG ? "output larger than declared" : failure == EINVAL ? "invalid stream" : "short output"
            throw FormatError(
                .corrupt, offset: 0,
                "invalid LZF payload (\(reason)): expected \(uncompressedCount) bytes, got \(decoded)")
        }
    }

    /// Compresses `input`, or returns nil when the result would not be smaller than `maximumCount` bytes
    /// (Redis asks for at most `length - 4`, and only for strings over 20 bytes: LZF cannot win below 21).
    public static func compress(_ input: ByteBuffer, maximumCount: Int? = nil) -> ByteBuffer? {
        let limit = maximumCount ?? (input.readableBytes - 1)
        var output = ByteBufferAllocator().buffer(capacity: max(limit, 0))
        let produced = input.withUnsafeReadableBytes { compress($0, appendingTo: &output, maximumCount: limit) }
        return produced == 0 ? nil : output
    }

    /// Inputs of at least this many bytes are sampled (``samplesIncompressible(_:)``) before a full attempt.
    static let sampledInputBytes = 4096
    /// The size of each sample.
    static let sampleBytes = 512

    /// True when three samples of the input (start, middle, end) do not compress by a single byte: random or
    /// already-compressed data, whose full attempt would fail too after reading nearly all of it. Three
    /// samples cost about a tenth of a full attempt on a 16 KiB string.
    static func samplesIncompressible(_ input: UnsafeRawBufferPointer) -> Bool {
        guard let base = input.baseAddress, input.count >= sampledInputBytes else { return false }
        return withUnsafeTemporaryAllocation(byteCount: sampleBytes, alignment: 1) { scratch in
            for start in [0, (input.count - sampleBytes) / 2, input.count - sampleBytes] {
                let produced = lzf_compress(
                    base + start, UInt32(sampleBytes), scratch.baseAddress!, UInt32(sampleBytes - 1))
                if produced > 0 { return false }
            }
            return true
        }
    }

    /// Compresses `input` and appends the result to `output` when it takes at most `maximumCount` bytes.
    ///
    /// - Returns: the bytes appended; 0 (nothing appended) when the input does not compress that well.
    static func compress(_ input: UnsafeRawBufferPointer, appendingTo output: inout ByteBuffer, maximumCount: Int) -> Int {
        guard let sourceBase = input.baseAddress, input.count > 0, maximumCount > 0, input.count <= Int(UInt32.max) else {
            return 0
        }
        let limit = UInt32(min(maximumCount, Int(UInt32.max)))
        return output.appendUnsafeBytes(maximumCount: maximumCount) { target in
            Int(lzf_compress(sourceBase, UInt32(input.count), target, limit))
        }
    }
}
