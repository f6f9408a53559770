import Formats
import Testing

/// Manifest parsing with Redis 7's messages (aof.c `aofLoadManifestFromFile`).
@Suite struct AOFManifestTests {
    static func parse(_ text: String) -> Result<AOFManifest, AOFManifest.ParseError> {
        Result { () throws(AOFManifest.ParseError) in try AOFManifest(parsing: Array(text.utf8)) }
    }

    static func message(_ text: String) -> String? {
        if case .failure(let error) = parse(text) { return error.message }
        return nil
    }

    @Test func redisManifest() throws {
        let manifest = try Self.parse(
            "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\n"
                + "# comment\nfile appendonly.aof.2.incr.aof seq 2 type i\nFILE \"with space\\n.aof\" SEQ 3 TYPE i extra pair\n"
        ).get()
        #expect(manifest.base == AOFManifestEntry(fileName: "appendonly.aof.1.base.rdb", sequence: 1, type: .base))
        #expect(manifest.history.map(\.fileName) == ["appendonly.aof.1.incr.aof"])
        #expect(manifest.incrementals.map(\.fileName) == ["appendonly.aof.2.incr.aof", "with space\n.aof"])
        #expect(manifest.loadOrder.map(\.sequence) == [1, 2, 3])
    }

    @Test func errorsUseRedisMessages() {
        #expect(Self.message("") == "Found an empty AOF manifest")
        #expect(Self.message("\n") == "Invalid AOF manifest file format")
        #expect(Self.message("file a seq 1\n") == "Invalid AOF manifest file format")
        #expect(Self.message("file a seq 1 type\n") == "Invalid AOF manifest file format")
        #expect(Self.message("file a seq 0 type i\n") == "Invalid AOF manifest file format")
        #expect(Self.message("file \"a seq 1 type i\n") == "Invalid AOF manifest file format")
        #expect(Self.message("file a seq 1 type i") == "The AOF manifest file contains too long line")
        #expect(Self.message("file \(String(repeating: "a", count: 1100)) seq 1 type i\n") == "The AOF manifest file contains too long line")
        #expect(Self.message("file dir/a seq 1 type i\n") == "File can't be a path, just a filename")
        #expect(Self.message("file b1 seq 1 type b\nfile b2 seq 2 type b\n") == "Found duplicate base file information")
        #expect(Self.message("file i2 seq 2 type i\nfile i1 seq 1 type i\n") == "Found a non-monotonic sequence number")
        #expect(Self.message("file x seq 1 type z\n") == "Unknown AOF file type")
    }

    @Test func errorDescriptionHasTheBanner() throws {
        guard case .failure(let error) = Self.parse("file i2 seq 2 type i\nfile i1 seq 1 type i\n") else {
            Issue.record("expected an error")
            return
        }
        #expect(error.lineNumber == 2)
        #expect(error.description.contains("*** FATAL AOF MANIFEST FILE ERROR ***"))
        #expect(error.description.contains(">>> 'file i1 seq 1 type i'"))
    }

    @Test func detection() {
        #expect(AOFManifest.looksLikeManifest(Array("# c\nfile a seq 1 type b\n".utf8)))
        #expect(!AOFManifest.looksLikeManifest(Array("*1\r\n$4\r\nPING\r\n".utf8)))
    }
}
