import Keyspace
import Testing

@Suite("Glob patterns")
struct GlobTests {
    @Test(
        "Patterns match as Redis's stringmatchlen does",
        arguments: [
            ("h?llo", "hello", true), ("h?llo", "hllo", false), ("h*llo", "heeeello", true), ("h*llo", "hllo", true),
            ("h[ae]llo", "hallo", true), ("h[ae]llo", "hillo", false), ("h[^e]llo", "hallo", true),
            ("h[^e]llo", "hello", false), ("h[a-b]llo", "hbllo", true), ("h[b-a]llo", "hallo", true),
            ("h\\*llo", "h*llo", true), ("h\\*llo", "hello", false), ("*", "", true), ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false), ("[abc", "a", true), ("user:*:name", "user:42:name", true),
            ("**", "anything", true), ("?", "", false),
        ])
    func globs(pattern: String, subject: String, expected: Bool) {
        #expect(Bytes(subject).matches(glob: Bytes(pattern)) == expected)
    }

    @Test("A pathological pattern gives up instead of spinning")
    func pathological() {
        let subject = Bytes(Array(repeating: UInt8(ascii: "a"), count: 60))
        let pattern = Bytes(String(repeating: "*a", count: 30) + "b")
        #expect(subject.matches(glob: pattern) == false)
    }
}
