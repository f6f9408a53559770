import Formats
import NIOCore
import TestSupport
import Testing

/// The RESP multibulk decoder: framing, line counting, limits, and failures split into truncated and corrupt.
@Suite struct RESPCommandDecoderTests {
    static let sample: [UInt8] = Array(
        "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n#TS:1628217470\r\n*3\r\n$3\r\nset\r\n$3\r\nfoo\r\n$5\r\nhello\r\n*1\r\n$0\r\n\r\n".utf8)

    enum Item: Equatable {
        case command([String], offset: Int64, line: Int64)
        case annotation(String, offset: Int64)
    }

    /// Decodes `bytes` read through windows of `chunkSize` bytes.
    static func decode(_ bytes: [UInt8], chunkSize: Int = 1 << 20, limits: RESPLimits = .init())
        -> (items: [Item], error: FormatError?, line: Int64, message: String?, itemOffset: Int64)
    {
        var decoder = RESPCommandDecoder(
            input: WindowedReader(source: try! InputSource.memory(ByteBuffer(bytes: bytes)), chunkSize: chunkSize),
            limits: limits)
        var items: [Item] = []
        do throws(FormatError) {
            while let item = try decoder.next() {
                switch item {
                case .command(let command):
                    items.append(.command(command.arguments.map(\.text), offset: command.offset, line: command.line))
                case .annotation(let annotation):
                    items.append(.annotation(annotation.text, offset: annotation.offset))
                }
            }
            return (items, nil, decoder.line, nil, decoder.lastItemOffset)
        } catch {
            return (items, error, decoder.line, decoder.failureMessage, decoder.lastItemOffset)
        }
    }

    @Test func pipelinedCommandsAndAnnotations() {
        let result = Self.decode(Self.sample)
        #expect(result.error == nil)
        #expect(
            result.items == [
                .command(["SELECT", "0"], offset: 0, line: 1),
                .annotation("TS:1628217470", offset: 23),
                .command(["set", "foo", "hello"], offset: 39, line: 6),
                .command([""], offset: 72, line: 13),
            ])
        // 5 + 7 + 3 CRLFs in commands; the annotation's is not counted.
        #expect(result.line == 16)
    }

    @Test(arguments: [1, 2, 3, 5, 7, 64])
    func readWindowDoesNotChangeTheResult(chunkSize: Int) {
        let whole = Self.decode(Self.sample)
        let split = Self.decode(Self.sample, chunkSize: chunkSize)
        #expect(split.items == whole.items)
        #expect(split.line == whole.line)
    }

    /// Every prefix: a clean end between items, `.truncated` with the offset of the cut item otherwise, and
    /// the items before the cut unchanged.
    @Test func everyPrefixIsCompleteOrTruncated() {
        let whole = Self.decode(Self.sample).items
        let boundaries: [Int] = [0, 23, 39, 72, Self.sample.count]
        for cut in 0...Self.sample.count {
            let result = Self.decode(Array(Self.sample.prefix(cut)), chunkSize: 3)
            if boundaries.contains(cut) {
                #expect(whole.starts(with: result.items), "cut \(cut)")
                #expect(result.error == nil, "cut \(cut)")
            } else if cut > 23 && cut < 39 {
                // An unterminated last annotation is accepted as the loader's fgets accepts it.
                #expect(result.error == nil, "cut \(cut)")
                #expect(result.items.count == 2, "cut \(cut)")
            } else {
                let error = result.error
                #expect(error != nil, "cut \(cut)")
                #expect(whole.starts(with: result.items), "cut \(cut)")
                #expect(error?.code == .truncated, "cut \(cut)")
                let itemStart = boundaries.last { $0 < cut }!
                #expect(error?.offset == Int64(itemStart), "cut \(cut)")
            }
        }
    }

    @Test func truncatedBulkReportsAsRedisDoes() {
        let bytes = Array("*3\r\n$3\r\nset\r\n$3\r\nbar\r\n$5\r\nwor".utf8)
        let result = Self.decode(bytes)
        #expect(result.error?.code == .truncated)
        #expect(result.error?.offset == 0)
        #expect(result.message == "Expected to read 7 bytes, got 3 bytes")
        #expect(result.itemOffset == 26)
        #expect(result.line == 7)
    }

    @Test func malformedFramesAreCorrupt() {
        let cases: [(String, String?)] = [
            ("!!!\r\n", nil),
            ("*2\r\n$3\r\nset\r\n!3\r\nfoo\r\n", "Expected prefix '$', got: '!'"),
            ("*x\r\n$3\r\nset\r\n", "Expected \\r\\n, got: 780d"),
            ("*1\r\n$3\r\nsetXY", "Expected \\r\\n, got: 5859"),
            ("*1\r\n$-1\r\n", "Expected to read string of -1 bytes, which is not in the suitable range"),
            ("*0\r\n", "Expected argument count in the range 1...1048576, got 0"),
            ("*1\n$3\r\nset\r\n", "Expected \\r\\n, got: 0a00"),
        ]
        for (text, message) in cases {
            let result = Self.decode(Array(text.utf8))
            #expect(result.error?.code == .corrupt, "\(text.debugDescription)")
            #expect(result.message == message, "\(text.debugDescription)")
        }
    }

    @Test func limitsAreCheckedBeforeAllocation() {
        var limits = RESPLimits()
        limits.maxArgumentCount = 4
        limits.maxBulkBytes = 10
        let tooMany = Self.decode(Array("*5\r\n".utf8), limits: limits)
        #expect(tooMany.error?.code == .limitExceeded)
        let tooLong = Self.decode(Array("*1\r\n$11\r\n".utf8), limits: limits)
        #expect(tooLong.error?.code == .limitExceeded)
        let huge = Self.decode(Array("*1\r\n$99999999999999999999999\r\n".utf8))
        #expect(huge.error?.code == .limitExceeded)
        let hugeCount = Self.decode(Array("*9223372036854775807\r\n".utf8))
        #expect(hugeCount.error?.code == .limitExceeded)
    }

    @Test func randomFlipsNeverTrap() {
        var random = SplitMix64(seed: 42)
        for _ in 0..<2000 {
            var bytes = Self.sample
            for _ in 0..<3 {
                let index = Int(random.next() % UInt64(bytes.count))
                bytes[index] = UInt8(truncatingIfNeeded: random.next())
            }
            let result = Self.decode(bytes, chunkSize: 4)
            if let error = result.error {
                #expect([.truncated, .corrupt, .limitExceeded].contains(error.code))
            }
        }
    }

    @Test func timestampAnnotation() {
        let items = Self.decode(Array("#TS:12\r\n#other\r\n".utf8)).items
        #expect(items == [.annotation("TS:12", offset: 0), .annotation("other", offset: 8)])
        #expect(RESPAnnotation(text: "TS:12", offset: 0).timestamp == 12)
        #expect(RESPAnnotation(text: "TS:1x", offset: 0).timestamp == nil)
    }
}
