import Formats
import Keyspace
import NIOCore
import NIOTestUtils
import Testing
import TestSupport

@testable import Server

@Suite("Request decoder")
struct RequestDecoderTests {
    /// Decodes everything in `bytes`, fed in pieces of `chunk` bytes.
    static func decodeAll(_ bytes: [UInt8], chunk: Int = Int.max, decoder: RESPRequestDecoder = .init()) throws -> [[String]] {
        var decoder = decoder
        var buffer = ByteBuffer()
        var requests: [[String]] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            buffer.writeBytes(bytes[offset..<end])
            offset = end
            while let request = try decoder.next(&buffer) { requests.append(request.map(\.string)) }
        }
        #expect(buffer.readableBytes == 0)
        return requests
    }

    static func expectError(_ input: String, _ reason: String, authenticated: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) {
        var decoder = RESPRequestDecoder()
        var buffer = ByteBuffer(string: input)
        do {
            while try decoder.next(&buffer, authenticated: authenticated) != nil {}
            Issue.record("no error for \(input.debugDescription)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.reason == reason, sourceLocation: sourceLocation)
        }
    }

    @Test("Multibulk requests split at every byte and pipelined give the same commands")
    func splitAndPipelined() throws {
        let input = Array("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n*1\r\n$4\r\nPING\r\n*0\r\n*-1\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n".utf8)
        let expected = [["SET", "key", "va\r\nl"], ["PING"], ["ECHO", ""]]
        for chunk in [1, 2, 3, 7, 64, Int.max] {
            #expect(try Self.decodeAll(input, chunk: chunk) == expected)
        }
    }

    @Test("Inline commands: spaces, quotes, escapes, CRLF or LF, blank lines skipped")
    func inline() throws {
        let input = Array("PING\r\n\r\nset  k \"a b\\x41\\n\" 'it\\'s'\nECHO \"\"\r\n".utf8)
        #expect(try Self.decodeAll(input) == [["PING"], ["set", "k", "a bA\n", "it's"], ["ECHO", ""]])
        #expect(try Self.decodeAll(input, chunk: 1) == [["PING"], ["set", "k", "a bA\n", "it's"], ["ECHO", ""]])
    }

    @Test("Malformed input: Redis's protocol error texts")
    func errors() {
        Self.expectError("*x\r\n", "invalid multibulk length")
        Self.expectError("*3000000000\r\n", "invalid multibulk length")
        Self.expectError("*1\r\n+PING\r\n", "expected '$', got '+'")
        Self.expectError("*1\r\n$-1\r\n", "invalid bulk length")
        Self.expectError("*1\r\n$01\r\n", "invalid bulk length")
        Self.expectError("*1\r\n$600000000\r\n", "invalid bulk length")
        Self.expectError("SET k \"abc\n", "unbalanced quotes in request")
        Self.expectError("SET k \"abc\"x\n", "unbalanced quotes in request")
        Self.expectError("*11\r\n", "unauthenticated multibulk length", authenticated: false)
        Self.expectError("*1\r\n$16385\r\n", "unauthenticated bulk length", authenticated: false)
        Self.expectError(String(repeating: "a", count: 70_000), "too big inline request")
        Self.expectError("SET k " + String(repeating: "a", count: 70_000) + "\r\n", "too big inline request")
        Self.expectError("*" + String(repeating: "1", count: 70_000), "too big mbulk count string")
        Self.expectError("*1\r\n$" + String(repeating: "1", count: 70_000), "too big bulk count string")
    }

    @Test("proto-max-bulk-len is the bulk limit")
    func bulkLimit() throws {
        var decoder = RESPRequestDecoder()
        decoder.maxBulkBytes = 10
        var buffer = ByteBuffer(string: "*1\r\n$10\r\n0123456789\r\n*1\r\n$11\r\n")
        #expect(try decoder.next(&buffer)?.map(\.string) == ["0123456789"])
        #expect(throws: ProtocolError(reason: "invalid bulk length")) { try decoder.next(&buffer) }
    }

    @Test("A large argument arriving in small reads is not re-scanned (linear)")
    func largeArgument() throws {
        var decoder = RESPRequestDecoder()
        var buffer = ByteBuffer(string: "*2\r\n$3\r\nSET\r\n$4000000\r\n")
        #expect(try decoder.next(&buffer) == nil)
        #expect(decoder.isInsideRequest)
        let piece = [UInt8](repeating: 0x61, count: 4000)
        for _ in 0..<1000 {
            buffer.writeBytes(piece)
            #expect(try decoder.next(&buffer) == nil)
        }
        buffer.writeString("\r\n")
        let request = try #require(try decoder.next(&buffer))
        #expect(request[1].count == 4_000_000)
    }

    @Test("Whole requests (one pass) and byte-fed requests (resumable) decode alike, at the one-pass limits too")
    func wholeAndResumableAgree() throws {
        // 1024 arguments is the most the one-pass path takes; 1025 goes through the resumable path whole.
        for count in [1, 2, 1024, 1025] {
            var input = "*\(count)\r\n"
            for index in 0..<count { input += "$\(String(index).utf8.count)\r\n\(index)\r\n" }
            let expected = [(0..<count).map(String.init)]
            #expect(try Self.decodeAll(Array(input.utf8)) == expected)
            #expect(try Self.decodeAll(Array(input.utf8), chunk: 5) == expected)
        }
        // Unauthenticated clients always take the resumable path, with its limits.
        var decoder = RESPRequestDecoder()
        var buffer = ByteBuffer(string: "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n")
        #expect(try decoder.next(&buffer, authenticated: false)?.map(\.string) == ["AUTH", "pw"])
    }

    @Test("next(_:into:) fills the caller's array in place, reusing its storage from one request to the next")
    func reusesArgumentArray() throws {
        var decoder = RESPRequestDecoder()
        var buffer = ByteBuffer(string: "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\nc\r\n*1\r\n$4")
        var argv: [Bytes] = []
        argv.reserveCapacity(8)
        let storage = argv.withUnsafeBufferPointer { $0.baseAddress }
        #expect(try decoder.next(&buffer, into: &argv))
        #expect(argv.map(\.string) == ["GET", "a"])
        #expect(try decoder.next(&buffer, into: &argv))
        #expect(argv.map(\.string) == ["SET", "b", "c"])
        #expect(argv.withUnsafeBufferPointer { $0.baseAddress } == storage)
        // Incomplete: false, and the array is left empty.
        #expect(try !decoder.next(&buffer, into: &argv))
        #expect(argv.isEmpty)
        buffer.writeString("\r\nPING\r\n")
        #expect(try decoder.next(&buffer, into: &argv))
        #expect(argv.map(\.string) == ["PING"])
    }

    @Test("Agrees with Formats' RESPCommandDecoder on random multibulk commands")
    func agreesWithFormatsDecoder() throws {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        var commands: [[[UInt8]]] = []
        for _ in 0..<300 {
            let command = (0..<Int.random(in: 1...6, using: &generator)).map { _ in
                (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            }
            commands.append(command)
            bytes += RESPClient.encode(command)
        }
        var formats = RESPCommandDecoder(source: ByteBufferSource(ByteBuffer(bytes: bytes)))
        var theirs: [[[UInt8]]] = []
        while case .command(let command)? = try formats.next() {
            theirs.append(command.arguments.map { Array($0.readableBytesView) })
        }
        for chunk in [1, 13, Int.max] {
            var decoder = RESPRequestDecoder()
            var buffer = ByteBuffer()
            var ours: [[[UInt8]]] = []
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + chunk)
                buffer.writeBytes(bytes[offset..<end])
                offset = end
                while let request = try decoder.next(&buffer) { ours.append(request.map(\.array)) }
            }
            #expect(ours == theirs)
        }
        #expect(theirs == commands)
    }

    @Test("ByteToMessageDecoderVerifier: drip-fed and shuffled input")
    func verifier() throws {
        let input = "*2\r\n$4\r\nECHO\r\n$3\r\na\r\n\r\n*1\r\n$4\r\nPING\r\nPING x\r\n"
        let expected: [[Bytes]] = [["ECHO", "a\r\n"], ["PING"], ["PING", "x"]]
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: [(input, expected)], decoderFactory: { RESPRequestFrameDecoder() })
    }
}
